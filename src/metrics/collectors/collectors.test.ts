import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import type { MetricFamily } from "../../runtime/telemetry/exposition/metric-family.ts";
import { captureLogger } from "../../runtime/testing.ts";
import type { CollectorContext, CollectorDefinition } from "./collector.ts";
import {
  defaultDiskDeviceExclude,
  defaultFsTypesExclude,
  defaultMountPointsExclude,
  defaultVmstatFields,
  nodeCollectors,
} from "./index.ts";

/** A fake host: files written under a temp dir, used as --path.procfs/--path.sysfs. */
async function fakeHost(files: Record<string, string>) {
  const root = await mkdtemp(join(tmpdir(), "sidecar-node-"));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const log = captureLogger();
  const ctx: CollectorContext = {
    paths: {
      procfs: join(root, "proc"),
      sysfs: join(root, "sys"),
      rootfs: "/",
      udevData: join(root, "udev"),
    },
    options: {
      filesystem: {
        mountPointsExclude: defaultMountPointsExclude,
        fsTypesExclude: defaultFsTypesExclude,
        mountTimeoutSeconds: 5,
      },
      diskstats: { deviceExclude: defaultDiskDeviceExclude },
      netdev: {},
      textfile: { directory: join(root, "textfile") },
      vmstat: { fields: defaultVmstatFields },
    },
    logger: log.logger,
    now: () => 1_700_000_000_500,
  };
  return { root, ctx, log, cleanup: () => rm(root, { recursive: true, force: true }) };
}

function collector(name: string): CollectorDefinition {
  const found = nodeCollectors.find((c) => c.name === name);
  assert.ok(found, name);
  return found;
}

/** `name{labels}` → value, for compact assertions. */
function values(families: MetricFamily[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const family of families)
    for (const s of family.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`);
      out[`${s.name}${labels.length ? `{${labels.join(",")}}` : ""}`] = s.value;
    }
  return out;
}

const procStat = `cpu  300 20 100 5000 10 0 5 1 30 2
cpu0 200 10 60 2500 6 0 3 1 20 1
cpu1 100 10 40 2500 4 0 2 0 10 1
intr 123456 1 2 3
ctxt 987654
btime 1700000000
processes 4242
procs_running 3
procs_blocked 1
softirq 100 1 2
`;

test("cpu: seconds per cpu and mode from /proc/stat ticks (USER_HZ 100), guest time apart", async () => {
  const host = await fakeHost({ "proc/stat": procStat });
  try {
    const v = values(await collector("cpu").create(host.ctx).collect());
    assert.equal(v['node_cpu_seconds_total{cpu="0",mode="user"}'], 2);
    assert.equal(v['node_cpu_seconds_total{cpu="1",mode="idle"}'], 25);
    assert.equal(v['node_cpu_seconds_total{cpu="0",mode="steal"}'], 0.01);
    assert.equal(v['node_cpu_guest_seconds_total{cpu="0",mode="user"}'], 0.2);
    assert.equal(v['node_cpu_guest_seconds_total{cpu="1",mode="nice"}'], 0.01);
    assert.equal(Object.keys(v).length, 2 * 8 + 2 * 2, "the aggregate cpu line is not a cpu");
  } finally {
    await host.cleanup();
  }
});

test("cpu: a counter that steps back keeps its last value; idle back by seconds is a CPU plugged again", async () => {
  const host = await fakeHost({ "proc/stat": "cpu0 200 10 60 2500 6 0 3 1 20 1\n" });
  try {
    const cpu = collector("cpu").create(host.ctx);
    await cpu.collect();
    await writeFile(join(host.root, "proc/stat"), "cpu0 210 10 60 2600 4 0 3 1 20 1\n");
    let v = values(await cpu.collect());
    assert.equal(v['node_cpu_seconds_total{cpu="0",mode="iowait"}'], 0.06, "iowait back: kept");
    assert.equal(v['node_cpu_seconds_total{cpu="0",mode="user"}'], 2.1);
    await writeFile(join(host.root, "proc/stat"), "cpu0 5 0 1 10 0 0 0 0 0 0\n");
    v = values(await cpu.collect());
    assert.equal(v['node_cpu_seconds_total{cpu="0",mode="idle"}'], 0.1, "replugged: afresh");
  } finally {
    await host.cleanup();
  }
});

test("stat: boot time, interrupts, context switches, forks and process counts", async () => {
  const host = await fakeHost({ "proc/stat": procStat });
  try {
    assert.deepEqual(values(await collector("stat").create(host.ctx).collect()), {
      node_intr_total: 123456,
      node_context_switches_total: 987654,
      node_boot_time_seconds: 1700000000,
      node_forks_total: 4242,
      node_procs_running: 3,
      node_procs_blocked: 1,
    });
  } finally {
    await host.cleanup();
  }
});

test("meminfo: kB fields in bytes with _bytes, counts as they are, (anon) as _anon", async () => {
  const host = await fakeHost({
    "proc/meminfo":
      "MemTotal:       16384 kB\nActive(anon):      8 kB\nHugePages_Total:       4\nHugepagesize:       2048 kB\n",
  });
  try {
    const families = await collector("meminfo").create(host.ctx).collect();
    assert.deepEqual(values(families), {
      node_memory_MemTotal_bytes: 16384 * 1024,
      node_memory_Active_anon_bytes: 8192,
      node_memory_HugePages_Total: 4,
      node_memory_Hugepagesize_bytes: 2048 * 1024,
    });
    assert.equal(families[0]!.help, "Memory information field MemTotal_bytes.");
  } finally {
    await host.cleanup();
  }
});

test("loadavg, pressure and vmstat (default fields only, untyped)", async () => {
  const host = await fakeHost({
    "proc/loadavg": "0.50 1.25 2.00 3/456 7890\n",
    "proc/pressure/cpu":
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=2500000\nfull avg10=0 avg60=0 avg300=0 total=0\n",
    "proc/pressure/io":
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=500000\n",
    "proc/pressure/memory":
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    "proc/vmstat":
      "nr_free_pages 100\npgfault 5000\npgmajfault 7\npswpin 1\noom_kill 2\npgpgin 9\n",
  });
  try {
    assert.deepEqual(values(await collector("loadavg").create(host.ctx).collect()), {
      node_load1: 0.5,
      node_load5: 1.25,
      node_load15: 2,
    });
    assert.deepEqual(values(await collector("pressure").create(host.ctx).collect()), {
      node_pressure_cpu_waiting_seconds_total: 2.5,
      node_pressure_io_waiting_seconds_total: 1,
      node_pressure_io_stalled_seconds_total: 0.5,
      node_pressure_memory_waiting_seconds_total: 0,
      node_pressure_memory_stalled_seconds_total: 0,
    });
    const vmstat = await collector("vmstat").create(host.ctx).collect();
    assert.deepEqual(values(vmstat), {
      node_vmstat_pgfault: 5000,
      node_vmstat_pgmajfault: 7,
      node_vmstat_pswpin: 1,
      node_vmstat_oom_kill: 2,
      node_vmstat_pgpgin: 9,
    });
    assert.ok(vmstat.every((f) => f.type === "untyped"));
  } finally {
    await host.cleanup();
  }
});

test("pressure: a kernel without PSI is no data, not a crash", async () => {
  const host = await fakeHost({});
  try {
    await assert.rejects(collector("pressure").create(host.ctx).collect(), { name: "NoDataError" });
  } finally {
    await host.cleanup();
  }
});

test("diskstats: sectors as bytes, ms as seconds, partitions left out, udev info labels", async () => {
  const host = await fakeHost({
    "proc/diskstats": [
      " 259       0 nvme0n1 100 2 800 50 200 3 1600 70 1 90 120 4 0 16 5 6 7",
      " 259       1 nvme0n1p1 1 1 1 1 1 1 1 1 0 1 1",
      "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0",
      "   8       0 sda 10 0 20 30 40 0 80 90 0 100 110",
    ].join("\n"),
    "udev/b259:0":
      "S:disk/by-id/x\nE:ID_MODEL=Fast SSD\nE:ID_SERIAL_SHORT=S123\nE:ID_PATH=pci-0000:01:00.0-nvme-1\n",
  });
  try {
    const v = values(await collector("diskstats").create(host.ctx).collect());
    assert.equal(v['node_disk_read_bytes_total{device="nvme0n1"}'], 800 * 512);
    assert.equal(v['node_disk_written_bytes_total{device="nvme0n1"}'], 1600 * 512);
    assert.equal(v['node_disk_read_time_seconds_total{device="nvme0n1"}'], 0.05);
    assert.equal(v['node_disk_io_now{device="nvme0n1"}'], 1);
    assert.equal(v['node_disk_discarded_sectors_total{device="nvme0n1"}'], 16);
    assert.equal(v['node_disk_flush_requests_total{device="nvme0n1"}'], 6);
    assert.equal(v['node_disk_reads_completed_total{device="sda"}'], 10);
    assert.equal(
      v['node_disk_flush_requests_total{device="sda"}'],
      undefined,
      "an older kernel's 11 fields",
    );
    assert.equal(
      v[
        'node_disk_info{device="nvme0n1",major="259",minor="0",model="Fast SSD",path="pci-0000:01:00.0-nvme-1",revision="",serial="S123",wwn=""}'
      ],
      1,
    );
    assert.ok(!Object.keys(v).some((k) => k.includes("nvme0n1p1") || k.includes("loop0")));
  } finally {
    await host.cleanup();
  }
});

test("netdev: every /proc/net/dev column under its header name; include and exclude", async () => {
  const netDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0: 5000      40    1    2    0     0          0         3     6000      50    0    1    0     0       0          0
`;
  const host = await fakeHost({ "proc/net/dev": netDev });
  try {
    const v = values(await collector("netdev").create(host.ctx).collect());
    assert.equal(v['node_network_receive_bytes_total{device="eth0"}'], 5000);
    assert.equal(v['node_network_receive_multicast_total{device="eth0"}'], 3);
    assert.equal(v['node_network_transmit_drop_total{device="eth0"}'], 1);
    assert.equal(v['node_network_transmit_colls_total{device="lo"}'], 0);
    host.ctx.options.netdev = { deviceExclude: "^lo$" };
    const excluded = values(await collector("netdev").create(host.ctx).collect());
    assert.ok(!Object.keys(excluded).some((k) => k.includes('"lo"')));
  } finally {
    await host.cleanup();
  }
});

test("filesystem: statfs of each mount, default excludes, rootfs prefix taken off, a failing mount reported", async () => {
  const host = await fakeHost({});
  const data = join(host.root, "data");
  await mkdir(data);
  await mkdir(join(host.root, "proc/1"), { recursive: true });
  await writeFile(
    join(host.root, "proc/1/mounts"),
    [
      `/dev/sda1 ${data} ext4 rw,relatime 0 0`,
      `/dev/sda1 ${data} ext4 rw,relatime 0 0`,
      `tmpfs ${join(host.root, "missing")} tmpfs ro 0 0`,
      "proc /proc proc rw 0 0",
      "overlay /var/lib/x overlay rw 0 0",
      "shm /dev/shm tmpfs rw 0 0",
    ].join("\n"),
  );
  try {
    const families = await collector("filesystem").create(host.ctx).collect();
    const v = values(families);
    const labels = `device="/dev/sda1",fstype="ext4",mountpoint="${data}"`;
    assert.ok((v[`node_filesystem_size_bytes{${labels}}`] ?? 0) > 0);
    assert.equal(v[`node_filesystem_device_error{${labels}}`], 0);
    assert.equal(v[`node_filesystem_readonly{${labels}}`], 0);
    const missing = `device="tmpfs",fstype="tmpfs",mountpoint="${join(host.root, "missing")}"`;
    assert.equal(v[`node_filesystem_device_error{${missing}}`], 1);
    assert.equal(v[`node_filesystem_size_bytes{${missing}}`], undefined);
    assert.equal(families.find((f) => f.name === "node_filesystem_size_bytes")!.samples.length, 1);
    // In a container the host's / is mounted at rootfs: mount points are reported as the host has them.
    host.ctx.paths.rootfs = host.root;
    await writeFile(join(host.root, "proc/1/mounts"), `/dev/sda1 ${data} ext4 ro 0 0\n`);
    const inContainer = values(await collector("filesystem").create(host.ctx).collect());
    assert.equal(
      inContainer['node_filesystem_readonly{device="/dev/sda1",fstype="ext4",mountpoint="/data"}'],
      1,
    );
  } finally {
    await host.cleanup();
  }
});

test("uname and time: kernel fields from procfs, the clock, zone offset and clock sources", async () => {
  const host = await fakeHost({
    "proc/sys/kernel/ostype": "Linux\n",
    "proc/sys/kernel/osrelease": "6.1.0-test\n",
    "proc/sys/kernel/version": "#1 SMP test\n",
    "proc/sys/kernel/hostname": "node-a\n",
    "proc/sys/kernel/domainname": "(none)\n",
    "sys/devices/system/clocksource/clocksource0/available_clocksource": "tsc hpet acpi_pm \n",
    "sys/devices/system/clocksource/clocksource0/current_clocksource": "tsc\n",
  });
  try {
    const [uname] = await collector("uname").create(host.ctx).collect();
    const labels = uname!.samples[0]!.labels;
    assert.deepEqual(
      { ...labels, machine: "" },
      {
        domainname: "(none)",
        machine: "",
        nodename: "node-a",
        release: "6.1.0-test",
        sysname: "Linux",
        version: "#1 SMP test",
      },
    );
    const v = values(await collector("time").create(host.ctx).collect());
    assert.equal(v.node_time_seconds, 1_700_000_000.5);
    assert.equal(v['node_time_clocksource_available_info{clocksource="hpet",device="0"}'], 1);
    assert.equal(v['node_time_clocksource_current_info{clocksource="tsc",device="0"}'], 1);
    assert.equal(
      Object.keys(v).filter((k) => k.startsWith("node_time_zone_offset_seconds{")).length,
      1,
    );
  } finally {
    await host.cleanup();
  }
});

test("textfile: valid files served with their mtime; a bad file is skipped whole and flagged", async () => {
  const host = await fakeHost({
    "textfile/a.prom": '# HELP jobs_done Jobs.\n# TYPE jobs_done counter\njobs_done{job="a"} 3\n',
    "textfile/b.prom": 'jobs_done{job="b"} 4\nbackup_ok 1\n',
    "textfile/ignored.txt": "not a prom file",
  });
  try {
    const textfile = collector("textfile").create(host.ctx);
    const v = values(await textfile.collect());
    assert.equal(v['jobs_done{job="a"}'], 3);
    assert.equal(v.node_textfile_scrape_error, 1, "b.prom redeclares jobs_done as untyped");
    assert.equal(v['jobs_done{job="b"}'], undefined);
    assert.equal(v.backup_ok, undefined, "the whole file is skipped");
    assert.ok(v[`node_textfile_mtime_seconds{file="${join(host.root, "textfile/a.prom")}"}`]);
    assert.equal(host.log.lines().filter((l) => l.msg === "textfile skipped").length, 1);
    await writeFile(join(host.root, "textfile/b.prom"), "backup_ok 1 1700000000000\n");
    await textfile.collect();
    assert.match(String(host.log.lines().at(-1)!.error), /timestamps/);
    await writeFile(
      join(host.root, "textfile/b.prom"),
      '# TYPE jobs_done counter\njobs_done{job="b"} 4\n',
    );
    const ok = values(await textfile.collect());
    assert.equal(ok['jobs_done{job="b"}'], 4);
    assert.equal(ok.node_textfile_scrape_error, 0);
  } finally {
    await host.cleanup();
  }
});
