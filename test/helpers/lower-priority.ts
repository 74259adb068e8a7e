import * as os from 'node:os';

// A setup file of the test projects that compute rather than wait (vitest.config.mts): their
// worker process, and what it starts, run 5 steps nicer, so that when the cores are busy the
// integration tests that wait on servers and clocks get them first. Not 19: on a machine that
// other work keeps busy, these tests must still finish within their timeouts.
os.setPriority(Math.min(19, os.getPriority() + 5));
