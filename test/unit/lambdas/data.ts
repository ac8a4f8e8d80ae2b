/** Deterministic delivery-time style data: hours ≈ 0.05·distance + 2 (standard) or + 1 (express). */
export function deliveryCsv(rows: number, seed = 1, shift = 0): string {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['distance_km,service,hours'];
  for (let i = 0; i < rows; i++) {
    const distance = Math.round((10 + rand() * 190 + shift) * 10) / 10;
    const service = rand() < 0.5 ? 'express' : 'standard';
    const hours = Math.round((0.05 * distance + (service === 'express' ? 1 : 2) + (rand() - 0.5) * 0.4) * 100) / 100;
    lines.push(`${distance},${service},${hours}`);
  }
  return `${lines.join('\n')}\n`;
}

/** What a well-trained delivery-time model answers. */
export const predictHours = (i: { distance_km: number; service: string }): number =>
  0.05 * i.distance_km + (i.service === 'express' ? 1 : 2);
