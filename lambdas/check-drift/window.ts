/**
 * Which capture and ground-truth files belong to a time window. Both layouts end in
 * `yyyy/mm/dd/hh/<file>`; a file belongs when its hour overlaps the window.
 */
const HOUR_PATH = /(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/[^/]+$/;

/** The UTC start of the hour a key's path names, or undefined for a key outside the layout. */
export function hourOfKey(key: string): number | undefined {
  const m = HOUR_PATH.exec(key);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  return Number.isNaN(t) ? undefined : t;
}

export function keyInWindow(key: string, from: number, to: number): boolean {
  const hour = hourOfKey(key);
  return hour !== undefined && hour + 3_600_000 > from && hour <= to;
}

/** Whether a record's time is inside the window; a record without a time trusts its file's hour. */
export function timeInWindow(iso: string | null | undefined, from: number, to: number): boolean {
  if (!iso) return true;
  const t = Date.parse(iso);
  return Number.isNaN(t) || (t >= from && t <= to);
}
