/** Number formatting shared by the text and HTML reports: one way to write a rate everywhere. */

/** A rate as a percentage: `0.0312` → `3.1 %`; small rates keep two decimals so they do not read as 0. */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '–';
  const percent = rate * 100;
  return `${percent.toFixed(Math.abs(percent) < 1 && percent !== 0 ? 2 : 1)} %`;
}

/** A difference of rates in percentage points, signed: `0.012` → `+1.2`. */
export function formatPoints(difference: number | null | undefined): string {
  if (difference === null || difference === undefined || !Number.isFinite(difference)) return '–';
  const points = difference * 100;
  const text = points.toFixed(Math.abs(points) < 1 ? 2 : 1);
  // -0.00 reads as a direction; a rounded zero has none.
  if (Number(text) === 0) return '0.0';
  return points > 0 ? `+${text}` : text;
}

/** A ratio: `2.345` → `2.35`; ratios above 100 lose their decimals. */
export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '–';
  return ratio >= 100 ? ratio.toFixed(0) : ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2);
}

/** A count with thousands separators, the same in every locale: `12345` → `12,345`. */
export function formatCount(count: number): string {
  return Math.round(count).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
