/**
 * A live source kept alive (an RxJS operator): one silent past `stallSeconds` (a hung camera, an
 * ffmpeg stopped with SIGSTOP) fails, which ends it; failures are retried with exponential
 * backoff, and the backoff starts over once an attempt has delivered for `healthySeconds`, so a
 * hiccup months after the last one waits 1 s, not the cap.
 */
import { retry, tap, throwError, timeout, timer, type MonoTypeOperatorFunction } from 'rxjs';

export interface SupervisionOptions {
  /** Restart after a failure (false for one-shot sources such as a browser capture). */
  readonly retry: boolean;
  readonly stallSeconds: number;
  readonly healthySeconds: number;
  readonly maxWaitSeconds: number;
  readonly onRetry: (error: Error, waitSeconds: number) => void;
}

export class SourceStalledError extends Error {}

export function superviseSource<T>(options: SupervisionOptions): MonoTypeOperatorFunction<T> {
  return (source) => {
    let failures = 0;
    let deliveringSince: number | undefined;
    return source.pipe(
      timeout({
        each: options.stallSeconds * 1000,
        with: () =>
          throwError(
            () =>
              new SourceStalledError(`no media for ${options.stallSeconds} s: the source stalled`),
          ),
      }),
      tap(() => (deliveringSince ??= performance.now())),
      retry({
        count: options.retry ? Infinity : 0,
        delay: (error: Error) => {
          const healthy =
            deliveringSince !== undefined &&
            performance.now() - deliveringSince >= options.healthySeconds * 1000;
          deliveringSince = undefined;
          failures = healthy ? 1 : failures + 1;
          const wait = Math.min(options.maxWaitSeconds, 2 ** (failures - 1));
          options.onRetry(error, wait);
          return timer(wait * 1000);
        },
      }),
    );
  };
}
