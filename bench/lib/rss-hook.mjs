// Loaded with `node --import` into a process the harness cannot instrument otherwise (the
// `swarm` CLI): at exit, write its peak RSS (VmHWM) and CPU time to BENCH_RSS_FILE.
import { readFileSync, writeFileSync } from 'node:fs';

const out = process.env.BENCH_RSS_FILE;
if (out) {
  process.on('exit', () => {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    const cpu = process.cpuUsage();
    writeFileSync(
      out,
      JSON.stringify({ peakRssBytes: hwm ? Number(hwm[1]) * 1024 : null, cpuS: (cpu.user + cpu.system) / 1e6 }),
    );
  });
}
