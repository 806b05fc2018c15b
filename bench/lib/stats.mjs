// Medians and spreads of per-pair figures. With a handful of pairs on a shared machine, the
// median resists the odd slow pair and min–max shows the spread honestly (no false precision
// from a standard deviation of five noisy numbers).

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** `{ median, min, max, count, values }` of finite values. */
export function summary(values) {
  const v = values.filter((x) => Number.isFinite(x));
  return {
    median: median(v),
    min: v.length ? Math.min(...v) : null,
    max: v.length ? Math.max(...v) : null,
    count: v.length,
    values: v,
  };
}

/** Per-pair ratios product[i] / floor[i], summarized. */
export function ratioSummary(product, floor) {
  return summary(product.map((p, i) => p / floor[i]));
}
