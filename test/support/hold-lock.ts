/** Fault injection: another process holding a SQLite database's write lock until it is killed. */
import { spawn, type ChildProcess } from 'node:child_process';

export async function holdLock(file: string): Promise<ChildProcess> {
  const holder = spawn('/usr/bin/python3', [
    '-c',
    `import sqlite3,sys,time
c=sqlite3.connect(sys.argv[1],isolation_level=None)
c.execute('BEGIN EXCLUSIVE')
print('locked',flush=True)
time.sleep(60)`,
    file,
  ]);
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return holder;
}
