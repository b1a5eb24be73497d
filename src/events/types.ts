import type { SourceRange } from '../core/range.ts';

/** StepRef names one step of a build for progress output: `[index/total] text`. */
export interface StepRef {
  /** Stable within a build (e.g. "s0.3" = stage 0, instruction 3). */
  id: string;
  /** 1-based position among the build's steps, and the count of steps. */
  index: number;
  total: number;
  /** Stage name or index, when the Buildfile has more than one stage. */
  stage?: string;
  /** The instruction as the user wrote it, shortened for one line (`COPY src/ /app/`). */
  text: string;
  range?: SourceRange;
}

/** BuildEvent is everything a core module tells the outside world; ui/ renders it. */
export type BuildEvent =
  | { type: 'build.start'; total: number; at: number }
  | { type: 'step.start'; step: StepRef; at: number }
  | { type: 'step.log'; step: StepRef; stream: 'stdout' | 'stderr'; text: string; at: number }
  | { type: 'step.cached'; step: StepRef; at: number }
  | { type: 'step.done'; step: StepRef; ms: number; at: number }
  | { type: 'step.failed'; step: StepRef; message: string; at: number }
  | { type: 'build.done'; imageId: string; tags: string[]; ms: number; at: number }
  | { type: 'warning'; message: string; range?: SourceRange; at: number }
  | { type: 'info'; message: string; at: number };

/** EventSink receives events; implementations must not throw. */
export interface EventSink {
  emit(e: BuildEvent): void;
}

/** nullSink discards events (tests, library use). */
export const nullSink: EventSink = { emit() {} };

/** collectingSink keeps every event, for tests that assert on what happened. */
export function collectingSink(): EventSink & { events: BuildEvent[] } {
  const events: BuildEvent[] = [];
  return { events, emit: (e) => void events.push(e) };
}
