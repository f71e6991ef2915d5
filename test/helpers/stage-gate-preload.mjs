/**
 * Preloaded (`node --import`) into a process under test when KEXEC_TEST_GATE names a gate directory made by
 * stage-gate.ts: the first time the process writes bytes into a staged segment file (`gen-*\/segment-NN.bin`, i.e.
 * inside STATEDIR/lock, in the middle of a load), it stops right after that write, announces itself by renaming
 * `inside.tmp` to `inside` (holding its pid) in the gate directory, and blocks reading the FIFO `go` until the
 * test opens it. So a test knows, by an event and not by timing, that this process holds the lock with a
 * half-written generation: it can start a competing load, or SIGKILL it there.
 *
 * Hook point: fs.openSync (the segment file is created with 'wx') and fs.writeSync, which durable-fs.ts uses for
 * every staged byte. Both are replaced on the fs module and the ESM bindings re-synced, so `import {writeSync}
 * from 'node:fs'` sees them. If staging stops using them, the gate never closes and the tests that rely on it fail
 * saying so (the load finishes before `inside` appears).
 */
import fs from 'node:fs';
import {syncBuiltinESMExports} from 'node:module';
import {join} from 'node:path';

const gateDir = process.env.KEXEC_TEST_GATE;
if (gateDir !== undefined && gateDir !== '') {
  const {openSync, writeSync, writeFileSync, renameSync, readFileSync} = fs;
  const segmentFds = new Set();
  let passed = false;

  fs.openSync = function gatedOpenSync(path, ...rest) {
    const fd = openSync.call(fs, path, ...rest);
    if (!passed && typeof path === 'string' && /\/gen-[^/]+\/segment-\d+\.bin$/.test(path)) segmentFds.add(fd);
    return fd;
  };

  fs.writeSync = function gatedWriteSync(fd, ...rest) {
    const written = writeSync.call(fs, fd, ...rest);
    if (!passed && segmentFds.has(fd) && written > 0) {
      passed = true;
      writeFileSync(join(gateDir, 'inside.tmp'), `${process.pid}\n`);
      renameSync(join(gateDir, 'inside.tmp'), join(gateDir, 'inside'));
      readFileSync(join(gateDir, 'go')); // a FIFO: blocks until the test opens it and closes it again
    }
    return written;
  };

  syncBuiltinESMExports();
}
