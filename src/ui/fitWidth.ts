import stringWidth from 'string-width';

let segmenter: Intl.Segmenter | undefined;

/**
 * fitWidth cuts text (printable, no escape sequences) to at most `width` terminal columns,
 * ending it with `…` when something was cut. Widths are a terminal's: a CJK character or an
 * emoji takes two columns, a combining mark none, and a grapheme is never split.
 */
export function fitWidth(text: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  if (text.length <= width && /^[\x20-\x7e]*$/.test(text)) return text;
  if (stringWidth(text) <= width) return text;
  if (width <= 0) return '';
  segmenter ??= new Intl.Segmenter();
  let out = '';
  let used = 0;
  for (const { segment } of segmenter.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}

/**
 * fitWithSuffix fits `text  suffix` into width columns, cutting text and never the suffix (a step's
 * timer or status); when not even the suffix fits, the suffix is cut.
 */
export function fitWithSuffix(text: string, suffix: string, width: number): string {
  if (suffix === '') return fitWidth(text, width);
  const room = width - stringWidth(suffix) - 2;
  if (room < 1) return fitWidth(suffix, width);
  return `${fitWidth(text, room)}  ${suffix}`;
}
