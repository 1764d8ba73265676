// Worker entry point: registers tsx in this thread (workers do not inherit the parent's module
// hooks), then runs the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./echo-inference-worker.ts');
