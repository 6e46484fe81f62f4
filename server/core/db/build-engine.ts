/** `npm run engine:build`: builds the embedded FerretDB into .cache/ ahead of time (CI, packaging). */
import { ensureEngineBinary } from './engine';

try {
  console.log(`embedded database ready: ${ensureEngineBinary()}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
