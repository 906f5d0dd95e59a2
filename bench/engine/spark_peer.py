"""The Apache Spark side of `npm run -s bench:engine -- --peer spark`.

Runs the benchmark's three queries on Spark Structured Streaming 4.0.1 (pyspark from PyPI,
the Kafka connector jars from Maven Central) over the same Kafka topics Sluice read, and prints
one JSON object with the rates, batch durations and peak memory it measured.

Settings follow Spark's defaults except where the benchmark fixes them for both engines: local[2]
(two cores, as Sluice gets), spark.sql.shuffle.partitions=4 (Sluice's numShufflePartitions), the
driver bound to 127.0.0.1, the web UI off (it would listen on a port; it costs Spark a little, so
turning it off favours Spark) and spark.sql.streaming.numRecentProgressUpdates raised so every
batch's progress is kept (it only sizes a list). The state store is Spark's default
(HDFSBackedStateStoreProvider, spark/sql/core/.../state/HDFSBackedStateStoreProvider.scala) and the
Kafka sink is Spark's (at-least-once: it has no transactions), while Sluice's Kafka sink is
exactly-once.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

SCHEMA = StructType(
    [
        StructField("id", LongType()),
        StructField("user_id", StringType()),
        StructField("url", StringType()),
        StructField("bytes", LongType()),
        StructField("ts", TimestampType()),
    ]
)


def vm_hwm_kib(pid):
    """Peak resident set size of a process (Linux /proc VmHWM), in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def clicks(spark, brokers, topic, max_offsets):
    raw = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", brokers)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .option("maxOffsetsPerTrigger", str(max_offsets))
        .load()
    )
    parsed = raw.select(F.from_json(F.col("value").cast("string"), SCHEMA).alias("r")).select("r.*")
    return parsed.withWatermark("ts", "10 seconds")


def query(kind, frame):
    """The same queries as Sluice's runs in bench/engine/cli.ts."""
    if kind == "stateless":
        out = frame.where("url LIKE '/product/%' OR bytes > 500").selectExpr(
            "id", "upper(user_id) AS user_id", "bytes * 2 AS bytes"
        )
        return out, "append"
    if kind == "windowed":
        out = (
            frame.groupBy(F.window("ts", "1 minute"), "user_id")
            .count()
            .selectExpr("window.start AS window_start", "user_id", "count AS clicks")
        )
        return out, "update"
    if kind == "latency":
        return frame.where("bytes > 100").select("id", "user_id"), "append"
    raise ValueError(kind)


def run(spark, args, kind, topic, max_offsets, run_id):
    frame, mode = query(kind, clicks(spark, args.brokers, topic, max_offsets))
    started = time.monotonic()
    q = (
        frame.select(F.to_json(F.struct("*")).alias("value"))
        .writeStream.format("kafka")
        .option("kafka.bootstrap.servers", args.brokers)
        .option("topic", f"{args.output_prefix}-{kind}-{run_id}")
        .option("checkpointLocation", os.path.join(args.work_dir, f"ckpt-{kind}-{run_id}"))
        .outputMode(mode)
        .trigger(availableNow=True)
        .start()
    )
    q.awaitTermination()
    wall = time.monotonic() - started
    progress = [p for p in q.recentProgress if p["numInputRows"] > 0]
    rows = sum(p["numInputRows"] for p in progress)
    batches = [
        {
            "startMs": _epoch_ms(p["timestamp"]),
            "durationMs": p["durationMs"]["triggerExecution"],
            "rows": p["numInputRows"],
        }
        for p in progress
    ]
    return {"rows": rows, "wallSeconds": wall, "batches": batches}


def _epoch_ms(iso):
    # Spark's progress timestamps are UTC ISO-8601 with milliseconds and a trailing Z.
    from datetime import datetime

    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000


def rate(batches, skip_first):
    chosen = batches[1:] if skip_first else batches
    if not chosen:
        return None
    rows = sum(b["rows"] for b in chosen)
    seconds = (chosen[-1]["startMs"] + chosen[-1]["durationMs"] - chosen[0]["startMs"]) / 1000
    return rows / seconds if seconds > 0 else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--latency-input", required=True)
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--latency-records", type=int, required=True)
    parser.add_argument("--first-batches", type=int, required=True)
    parser.add_argument("--jars", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--output-prefix", required=True)
    args = parser.parse_args()

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("sluice-bench-peer")
        .config("spark.jars", args.jars)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.streaming.numRecentProgressUpdates", "100000")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    jvm_pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()

    result = {"sparkVersion": spark.version, "runs": {}}
    for kind, topic, records, max_offsets in (
        ("stateless", args.input, args.records, 50000),
        ("windowed", args.input, args.records, 50000),
        ("latency", args.latency_input, args.latency_records, 1000),
    ):
        # Run 1 is the cold one (first query of its kind in this JVM: planning, code generation,
        # class loading); run 2 the same query again on a new checkpoint in the warm JVM.
        cold = run(spark, args, kind, topic, max_offsets, "cold")
        warm = run(spark, args, kind, topic, max_offsets, "warm")
        for r in (cold, warm):
            if r["rows"] < records:
                print(f"spark {kind}: progress reports {r['rows']} of {records} rows", file=sys.stderr)
                sys.exit(2)
        durations = sorted(b["durationMs"] for b in warm["batches"])
        first = [b["durationMs"] for b in warm["batches"][: args.first_batches]]
        result["runs"][kind] = {
            "coldRowsPerSecond": rate(cold["batches"], skip_first=False),
            "warmRowsPerSecond": rate(warm["batches"], skip_first=True),
            "coldWallSeconds": cold["wallSeconds"],
            "batches": len(warm["batches"]),
            "batchP50Ms": statistics.median(durations) if durations else None,
            # The sample of the latency runs before 2026-12-05 (bench/engine/cli.ts FIRST_BATCHES).
            "batchP50MsFirst30": statistics.median(first) if first else None,
        }
    result["peakRssKiB"] = {
        "jvm": vm_hwm_kib(jvm_pid),
        "python": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    spark.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
