-- wrk script of the Miz benchmarks (see bench/README.md); bench/track_bench.py runs it.
--
--   wrk ... -s bench/load.lua URL -- track CODES_FILE TOKEN PREFIX [ETAG]
--       GET PREFIX<code> for random codes of CODES_FILE, with "Authorization: Bearer TOKEN"
--       (kiosk calls are exempt from the per-address rate limit, as in a real lobby); TOKEN
--       "-" sends none (a citizen's phone, a lobby TV), ETAG goes in If-None-Match
--   wrk ... -s bench/load.lua URL -- post BODY_FILE
--       POST BODY_FILE as JSON to /api/v1/requests, its placeholder client_id replaced by a
--       fresh UUID each time (every call files a new request)
--
-- At the end it prints one line "MIZ_RESULT {json}" with the counts and latency percentiles.

local mode, codes, auth, prefix, etag, body_template
local counter = 0
local PLACEHOLDER = "00000000%-0000%-4000%-8000%-000000000000"

function init(args)
  mode = args[1]
  -- a different sequence in every thread and every run
  local address = tonumber(string.match(tostring({}), "0x(%x+)") or "0", 16) or 0
  math.randomseed(os.time() + address % 1000003)
  if mode == "track" then
    codes = {}
    for line in io.lines(args[2]) do
      if #line > 0 then codes[#codes + 1] = line end
    end
    assert(#codes > 0, "no codes in " .. args[2])
    if args[3] ~= "-" then auth = "Bearer " .. args[3] end
    prefix = args[4]
    etag = args[5]
  elseif mode == "post" then
    local file = assert(io.open(args[2], "rb"))
    body_template = file:read("*a")
    file:close()
    assert(string.find(body_template, PLACEHOLDER), "no placeholder client_id in " .. args[2])
  else
    error("mode must be track or post, not " .. tostring(mode))
  end
end

local function uuid4()
  counter = counter + 1
  return string.format("%08x-%04x-4%03x-%x%03x-%04x%08x",
    math.random(0, 0x7fffffff), math.random(0, 0xffff), math.random(0, 0xfff),
    8 + math.random(0, 3), math.random(0, 0xfff), math.random(0, 0xffff), counter)
end

function request()
  if mode == "track" then
    local headers = {}
    if auth then headers["Authorization"] = auth end
    if etag then headers["If-None-Match"] = etag end
    return wrk.format("GET", prefix .. codes[math.random(#codes)], headers)
  end
  local body = string.gsub(body_template, PLACEHOLDER, uuid4())
  return wrk.format("POST", "/api/v1/requests",
    {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'MIZ_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "mean_us": %.1f, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
    .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, '
    .. '"status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
