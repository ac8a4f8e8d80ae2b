/** Order statistics the benches quote. Upper median for an even count: a figure that was measured. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
