// A progress bar while the command's own index catches up with a partition (a read of a stream
// in a large partition reads that partition first), from the store's `index-caught-up` events.
import cliProgress from 'cli-progress';
import type { KafkaEventStore } from '../store/event-store.js';

/** Below this many records behind, a bar would only flicker. */
const worthShowing = 20_000;

/** Shows the bar while the index is far behind; the function returned removes it. */
export function showIndexProgress(store: KafkaEventStore): () => void {
  const partitions = new Map<number, { offset: number; target: number }>();
  let bar: cliProgress.SingleBar | undefined;
  const stopObserving = store.observe((event) => {
    if (event.type !== 'index-caught-up') return;
    partitions.set(event.partition, { offset: event.offset, target: event.offset + event.behind });
    const done = [...partitions.values()].reduce((sum, p) => sum + p.offset, 0);
    const total = [...partitions.values()].reduce((sum, p) => sum + p.target, 0);
    if (!bar && total - done < worthShowing) return;
    if (!bar) {
      bar = new cliProgress.SingleBar({ format: 'indexing the stream\'s partition [{bar}] {value}/{total} records | {eta_formatted} left', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
      bar.start(total, done);
    }
    bar.setTotal(total);
    bar.update(done);
  });
  let hidden = false;
  return () => {
    if (hidden) return;
    hidden = true;
    stopObserving();
    bar?.stop();
  };
}
