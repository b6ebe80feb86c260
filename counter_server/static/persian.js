// Persian digits and Jalali dates in the browser, for pages that work without the server:
// the ports of shared/text.py's to_persian_digits and shared/jalali.py's format_date (its
// calendar arithmetic is jdatetime's, from jalali_core, ported line for line here).

const PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹";
const GREGORIAN_MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const JALALI_MONTH_DAYS = [31, 31, 31, 31, 31, 31, 30, 30, 30, 30, 30, 29];

/** `value` with its ASCII digits written in Persian. */
export function persianDigits(value) {
  return String(value).replace(/[0-9]/g, (digit) => PERSIAN_DIGITS[digit]);
}

/** The Jalali [year, month, day] of a Gregorian "YYYY-MM-DD". */
export function toJalali(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  const gy = year - 1600;
  const gm = month - 1;
  let dayNo = 365 * gy + Math.floor((gy + 3) / 4) - Math.floor((gy + 99) / 100)
    + Math.floor((gy + 399) / 400) + day - 1 - 79;
  for (let i = 0; i < gm; i++) { dayNo += GREGORIAN_MONTH_DAYS[i]; }
  if (gm > 1 && ((gy % 4 === 0 && gy % 100 !== 0) || gy % 400 === 0)) { dayNo += 1; }
  const cycles = Math.floor(dayNo / 12053);
  dayNo %= 12053;
  let jy = 979 + 33 * cycles + 4 * Math.floor(dayNo / 1461);
  dayNo %= 1461;
  if (dayNo >= 366) {
    dayNo -= 1;
    jy += Math.floor(dayNo / 365);
    dayNo %= 365;
  }
  let jm = 0;
  while (jm < 11 && dayNo >= JALALI_MONTH_DAYS[jm]) {
    dayNo -= JALALI_MONTH_DAYS[jm];
    jm += 1;
  }
  return [jy, jm + 1, dayNo + 1];
}

/** «۵ آذر ۱۴۰۵» for "2026-11-26", with `months` the Persian month names in order. */
export function formatDate(isoDate, months) {
  const [year, month, day] = toJalali(isoDate);
  return persianDigits(`${day} ${months[month - 1]} ${year}`);
}

/** Today's date in Tehran as "YYYY-MM-DD", the day the server counts expiry by. */
export function todayInTehran(now = new Date()) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: "Asia/Tehran", year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(now);
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}
