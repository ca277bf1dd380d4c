/**
 * Small statistics for noisy measurements: medians, not means, because one slow run on a shared machine
 * should not move the figure.
 */

/** The median of `values`; NaN for none. */
export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** The smallest and largest of `values`. */
export const range = (values: ReadonlyArray<number>): readonly [number, number] =>
  values.length === 0 ? [Number.NaN, Number.NaN] : [Math.min(...values), Math.max(...values)]

/** `items` rotated left by `by`: round r runs the writers in a different order, so none is always first. */
export const rotate = <A>(items: ReadonlyArray<A>, by: number): Array<A> => {
  const shift = ((by % items.length) + items.length) % items.length
  return [...items.slice(shift), ...items.slice(0, shift)]
}
