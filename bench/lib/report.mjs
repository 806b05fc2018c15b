// From per-pair measurements to the ratios of issue 8, their targets, and the printed tables.
import { ratioSummary, summary } from './stats.mjs';

const MB = 1024 * 1024;

/** Targets of issue 8 (ratios are "at most"). */
export const TARGETS = {
  e2e: { small: 1.3, large: 1.2 },
  rollback: 1.3,
  activate: 1.2,
  fleet30: 1.3,
  rssBytes: 120 * MB,
};

/** The ratios of one single-host workload. */
export function singleHostRatios(single) {
  const { workload, pairs } = single;
  const p = pairs.map((r) => r.product);
  const f = pairs.map((r) => r.floor);
  const rb = pairs.map((r) => r.rollback);
  const policy = p.map((x) => x.healthyWindowMs ?? 0);
  const rows = [
    {
      key: 'e2e',
      label: 'end-to-end update / floor',
      ...ratioSummary(
        p.map((x) => x.ms),
        f.map((x) => x.ms),
      ),
      product: summary(p.map((x) => x.ms)).median,
      floor: summary(f.map((x) => x.ms)).median,
      target: TARGETS.e2e[workload] ?? null,
    },
    {
      key: 'e2eCost',
      label: '  same, probe policy wait excluded',
      ...ratioSummary(
        p.map((x, i) => x.ms - policy[i]),
        f.map((x) => x.ms),
      ),
      product: summary(p.map((x, i) => x.ms - policy[i])).median,
      floor: summary(f.map((x) => x.ms)).median,
      target: TARGETS.e2e[workload] ?? null,
    },
    {
      key: 'receive',
      label: 'receive / upload floor',
      ...ratioSummary(
        p.map((x) => x.steps.receive),
        f.map((x) => x.receiveMs),
      ),
      product: summary(p.map((x) => x.steps.receive)).median,
      floor: summary(f.map((x) => x.receiveMs)).median,
    },
    {
      key: 'extract',
      label: 'extraction / GNU tar xzf',
      ...ratioSummary(
        p.map((x) => x.steps.extract),
        f.map((x) => x.extractMs),
      ),
      product: summary(p.map((x) => x.steps.extract)).median,
      floor: summary(f.map((x) => x.extractMs)).median,
    },
    {
      key: 'restart',
      label: 'restart+probe / restart floor',
      ...ratioSummary(
        p.map((x, i) => x.steps.restart + x.steps.probe - policy[i]),
        f.map((x) => x.restartMs),
      ),
      product: summary(p.map((x, i) => x.steps.restart + x.steps.probe - policy[i])).median,
      floor: summary(f.map((x) => x.restartMs)).median,
      note: 'policy wait excluded',
    },
    {
      key: 'rollback',
      label: 'rollback / flip+restart floor',
      ...ratioSummary(
        rb.map((x) => x.ms - (x.healthyWindowMs ?? 0)),
        f.map((x) => x.flipMs + x.restartMs),
      ),
      product: summary(rb.map((x) => x.ms - (x.healthyWindowMs ?? 0))).median,
      floor: summary(f.map((x) => x.flipMs + x.restartMs)).median,
      target: TARGETS.rollback,
      note: 'master-side, policy wait excluded',
    },
    ...(pairs.every((r) => r.activate)
      ? [
          {
            key: 'activate',
            label: 'activate (staged) / flip+restart floor',
            ...ratioSummary(
              pairs.map((r) => r.activate.ms - (r.activate.healthyWindowMs ?? 0)),
              f.map((x) => x.flipMs + x.restartMs),
            ),
            product: summary(pairs.map((r) => r.activate.ms - (r.activate.healthyWindowMs ?? 0))).median,
            floor: summary(f.map((x) => x.flipMs + x.restartMs)).median,
            target: TARGETS.activate,
            note: 'master-side, policy wait excluded',
          },
        ]
      : []),
    {
      key: 'cpu',
      label: 'CPU-seconds / floor CPU-seconds',
      ...ratioSummary(
        p.map((x) => x.cpuS),
        f.map((x) => x.cpuS),
      ),
      product: summary(p.map((x) => x.cpuS)).median,
      floor: summary(f.map((x) => x.cpuS)).median,
      unit: 's',
    },
  ];
  const b = pairs.map((r) => r.before).filter(Boolean);
  if (b.length === pairs.length) {
    const rev = single.bundleBefore;
    const policyB = b.map((x) => x.healthyWindowMs ?? 0);
    rows.push(
      {
        key: 'e2eBefore',
        label: `end-to-end / floor, bundle ${rev}`,
        ...ratioSummary(
          b.map((x) => x.ms),
          f.map((x) => x.ms),
        ),
        product: summary(b.map((x) => x.ms)).median,
        floor: summary(f.map((x) => x.ms)).median,
      },
      {
        key: 'e2eCostBefore',
        label: `  same, policy excluded, bundle ${rev}`,
        ...ratioSummary(
          b.map((x, i) => x.ms - policyB[i]),
          f.map((x) => x.ms),
        ),
        product: summary(b.map((x, i) => x.ms - policyB[i])).median,
        floor: summary(f.map((x) => x.ms)).median,
      },
      {
        key: 'extractBefore',
        label: `extraction / GNU tar, bundle ${rev}`,
        ...ratioSummary(
          b.map((x) => x.steps.extract),
          f.map((x) => x.extractMs),
        ),
        product: summary(b.map((x) => x.steps.extract)).median,
        floor: summary(f.map((x) => x.extractMs)).median,
      },
      {
        key: 'cpuBefore',
        label: `CPU-seconds / floor, bundle ${rev}`,
        ...ratioSummary(
          b.map((x) => x.cpuS),
          f.map((x) => x.cpuS),
        ),
        product: summary(b.map((x) => x.cpuS)).median,
        floor: summary(f.map((x) => x.cpuS)).median,
        unit: 's',
      },
      {
        key: 'extractChange',
        label: `extraction: this bundle / bundle ${rev}`,
        ...ratioSummary(
          p.map((x) => x.steps.extract),
          b.map((x) => x.steps.extract),
        ),
        product: summary(p.map((x) => x.steps.extract)).median,
        floor: summary(b.map((x) => x.steps.extract)).median,
      },
    );
  }
  return rows.map((r) => ({ workload, ...r, ok: r.target == null ? null : r.median <= r.target }));
}

/** Medians of the updater's steps (ms), and what the master's end-to-end time holds besides. */
export function stepBreakdown(single) {
  const p = single.pairs.map((r) => r.product);
  const names = [...new Set(p.flatMap((x) => Object.keys(x.steps)))];
  const out = {};
  for (const n of names) out[n] = summary(p.map((x) => x.steps[n] ?? 0)).median;
  out.policyWait = summary(p.map((x) => x.healthyWindowMs ?? 0)).median;
  out.outsideSteps = summary(p.map((x) => x.ms - Object.values(x.steps).reduce((a, b) => a + b, 0))).median;
  out.endToEnd = summary(p.map((x) => x.ms)).median;
  const f = single.pairs.map((r) => r.floor);
  out.floor = {
    upload: summary(f.map((x) => x.uploadMs)).median,
    receive: summary(f.map((x) => x.receiveMs)).median,
    extract: summary(f.map((x) => x.extractMs)).median,
    flip: summary(f.map((x) => x.flipMs)).median,
    restart: summary(f.map((x) => x.restartMs)).median,
    total: summary(f.map((x) => x.ms)).median,
  };
  return out;
}

/** Fleet ratios per (N, concurrency), and the master's peak RSS. */
export function fleetRatios(fleet) {
  const groups = new Map();
  for (const r of fleet.rows) {
    const k = `${r.n}/${r.concurrency}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  return [...groups.values()].map((rows) => {
    const { n, concurrency } = rows[0];
    const ratio = ratioSummary(
      rows.map((r) => r.product.ms),
      rows.map((r) => r.baseline.ms),
    );
    const target = n >= 30 ? TARGETS.fleet30 : null;
    return {
      n,
      concurrency,
      ...ratio,
      product: summary(rows.map((r) => r.product.ms)).median,
      baseline: summary(rows.map((r) => r.baseline.ms)).median,
      cpuRatio: ratioSummary(
        rows.map((r) => r.product.cpuS),
        rows.map((r) => r.baseline.cpuS),
      ).median,
      masterPeakRssBytes: summary(rows.map((r) => r.product.masterPeakRssBytes)).median,
      target,
      ok: target == null ? null : ratio.median <= target,
      // `swarm activate --all` of a release staged ahead, against `swarm update --all`: reported, no target.
      activate: rows.every((r) => r.activate)
        ? {
            ...ratioSummary(
              rows.map((r) => r.activate.ms),
              rows.map((r) => r.product.ms),
            ),
            product: summary(rows.map((r) => r.activate.ms)).median,
          }
        : null,
    };
  });
}

const x = (v) => (v == null ? '—' : `${v.toFixed(2)}x`);
const ms = (v, unit) => (v == null ? '—' : unit === 's' ? `${v.toFixed(2)} s` : `${Math.round(v)} ms`);
const verdict = (ok) => (ok === null || ok === undefined ? '' : ok ? 'ok' : 'MISS');

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((c, i) => String(c).padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The tables printed on stdout. */
export function renderReport(report) {
  const out = [];
  const m = report.meta;
  out.push(
    `swarm bench (${m.mode}) ${m.date} · node ${m.node} · ${m.nproc} cores · load ${m.loadStart.toFixed(1)} → ${m.loadEnd.toFixed(1)} · ${m.elapsedS.toFixed(0)} s`,
  );
  out.push('');
  const rows = [];
  for (const r of report.ratios.single) {
    rows.push([
      r.label,
      r.workload,
      x(r.median),
      r.count > 1 ? `${r.min.toFixed(2)}–${r.max.toFixed(2)}` : '',
      ms(r.product, r.unit),
      ms(r.floor, r.unit),
      r.target == null ? '' : `≤ ${r.target}x`,
      verdict(r.ok),
    ]);
  }
  for (const b of report.big) {
    const ok = b.receivePeakRssBytes <= TARGETS.rssBytes;
    rows.push([
      `updater peak RSS receiving 1 GB (${b.variant})`,
      '1 GB',
      `${Math.round(b.receivePeakRssBytes / MB)} MB`,
      `process peak ${Math.round(b.processPeakRssBytes / MB)} MB`,
      `${Math.round(b.steps.receive)} ms`,
      '',
      `≤ ${TARGETS.rssBytes / MB} MB`,
      verdict(ok),
    ]);
  }
  for (const f of report.ratios.fleet) {
    rows.push([
      `fleet N=${f.n} c=${f.concurrency} / curl | xargs -P`,
      report.fleet.workload,
      x(f.median),
      f.count > 1 ? `${f.min.toFixed(2)}–${f.max.toFixed(2)}` : '',
      ms(f.product),
      ms(f.baseline),
      f.target == null ? '' : `≤ ${f.target}x`,
      verdict(f.ok),
    ]);
  }
  for (const f of report.ratios.fleet) {
    if (!f.activate) continue;
    rows.push([
      `fleet N=${f.n} c=${f.concurrency} activate / update`,
      report.fleet.workload,
      x(f.activate.median),
      f.activate.count > 1 ? `${f.activate.min.toFixed(2)}–${f.activate.max.toFixed(2)}` : '',
      ms(f.activate.product),
      ms(f.product),
      '',
      '',
    ]);
  }
  for (const f of report.ratios.fleet) {
    rows.push([
      `master peak RSS, N=${f.n} c=${f.concurrency}`,
      '',
      `${Math.round(f.masterPeakRssBytes / MB)} MB`,
      '',
      '',
      '',
      '',
      '',
    ]);
  }
  out.push(
    table(['ratio (median of per-pair ratios)', 'workload', 'median', 'spread', 'swarm', 'floor', 'target', ''], rows),
  );
  for (const [workload, b] of Object.entries(report.breakdown)) {
    out.push('');
    out.push(`where the time goes, ${workload} (median ms):`);
    const steps = Object.entries(b)
      .filter(([k]) => !['floor', 'endToEnd', 'outsideSteps', 'policyWait'].includes(k))
      .map(([k, v]) => `${k} ${Math.round(v)}`)
      .join(' · ');
    out.push(
      `  swarm  ${steps} · outside steps ${Math.round(b.outsideSteps)} (of which probe policy wait ${Math.round(b.policyWait)} is inside probe) = ${Math.round(b.endToEnd)}`,
    );
    const f = b.floor;
    out.push(
      `  floor  upload ${Math.round(f.upload)} (server receive ${Math.round(f.receive)}) · tar ${Math.round(f.extract)} · flip ${f.flip.toFixed(1)} · restart ${Math.round(f.restart)} = ${Math.round(f.total)}`,
    );
  }
  return out.join('\n');
}
