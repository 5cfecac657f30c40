import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeDirectories, makeDirectoriesSync } from './make-directories';

const tempDirs: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearsim-mkdir-'));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

// the same cases for both: the store makes its folders asynchronously, the CLI its output files' synchronously
describe.each([
  ['makeDirectories', (dir: string) => makeDirectories(dir)],
  ['makeDirectoriesSync', async (dir: string) => makeDirectoriesSync(dir)],
])('%s', (_name, make) => {
  it('makes the missing folders, answering the first one made (as recursive mkdir does), nothing when all exist', async () => {
    const dir = tempDir();
    await expect(make(path.join(dir, 'a', 'b', 'c'))).resolves.toBe(path.join(dir, 'a'));
    expect(fs.statSync(path.join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
    await expect(make(path.join(dir, 'a', 'b', 'c'))).resolves.toBeUndefined();
    await expect(make(path.join(dir, 'a', 'b', 'd'))).resolves.toBe(path.join(dir, 'a', 'b', 'd'));
    await expect(make(dir)).resolves.toBeUndefined();
  });

  it('takes a path relative to the working directory', async () => {
    const dir = tempDir();
    const relative = path.relative(process.cwd(), path.join(dir, 'x', 'y'));
    await expect(make(relative)).resolves.toBe(path.join(dir, 'x'));
    expect(fs.statSync(path.join(dir, 'x', 'y')).isDirectory()).toBe(true);
  });

  it('refuses a file in the way as recursive mkdir does: EEXIST for the folder itself, ENOTDIR for one above it', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'x');
    await expect(make(file)).rejects.toMatchObject({ code: 'EEXIST', syscall: 'mkdir' });
    await expect(make(path.join(file, 'sub', 'deeper'))).rejects.toMatchObject({ code: 'ENOTDIR', syscall: 'mkdir' });
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
    expect(fs.readdirSync(dir)).toEqual(['a-file']);
  });

  it('fails at once where the file system makes no folder (/proc), naming the folder; recursive mkdir loops there forever', async () => {
    const error = await make('/proc/clearsim-test/x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'mkdir', path: '/proc/clearsim-test' });
    expect((error as Error).message).toBe("ENOENT: no such file or directory, mkdir '/proc/clearsim-test' (/proc exists, but its file system makes no folder in it)");
    expect(fs.existsSync('/proc/clearsim-test')).toBe(false);
  }, 10_000);
});
