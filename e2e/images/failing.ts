// dev.local/failing: exits with code 5 at start, for the tests of a revision whose container
// crashes (CrashLoopBackOff, a Ready=False condition carrying the exit code).
process.stderr.write('failing: exiting with code 5 on purpose\n');
// exitCode rather than exit(): the process ends as soon as the write is done, and nothing is lost.
process.exitCode = 5;
