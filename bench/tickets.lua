-- wrk script of the queue benchmark (bench/queue_bench.py runs it):
--
--   wrk ... -s bench/tickets.lua URL -- TOKEN SERVICE
--       POST /api/v1/tickets as the kiosk with bearer TOKEN, a fresh client_id each time
--
-- At the end it prints one line "MIZ_RESULT {json}" with the counts and latency percentiles.

local auth, service
local counter = 0

function init(args)
  auth = "Bearer " .. args[1]
  service = args[2]
  local address = tonumber(string.match(tostring({}), "0x(%x+)") or "0", 16) or 0
  math.randomseed(os.time() + address % 1000003)
end

local function uuid4()
  counter = counter + 1
  return string.format("%08x-%04x-4%03x-%x%03x-%04x%08x",
    math.random(0, 0x7fffffff), math.random(0, 0xffff), math.random(0, 0xfff),
    8 + math.random(0, 3), math.random(0, 0xfff), math.random(0, 0xffff), counter)
end

function request()
  local body = '{"client_id": "' .. uuid4() .. '", "service": "' .. service .. '"}'
  return wrk.format("POST", "/api/v1/tickets",
    {["Content-Type"] = "application/json", ["Authorization"] = auth}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'MIZ_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"status_errors": %d, "other_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
