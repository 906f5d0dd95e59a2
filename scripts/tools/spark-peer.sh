#!/usr/bin/env bash
# Installs the Apache Spark peer of `npm run -s bench:engine -- --peer spark`: pyspark (pinned
# below) in a virtualenv and the Kafka connector jars (tools/spark/pom.xml) from Maven Central, in a
# cache outside the clone (${SLUICE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/tools}/spark-<v>),
# so later clones on the same machine reuse them (~500 MB; the first install takes about a minute).
# Prints two lines: the virtualenv's python, then the connector jars joined by commas.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# One pin for both halves: pyspark's version must match the connector's (Spark refuses mixed jars).
version=$(sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' "$root/tools/spark/pom.xml")
dir="${SLUICE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/tools}/spark-$version"
mkdir -p "$dir"
exec 9> "$dir/.lock"
flock 9
for cmd in python3 java mvn; do
  command -v "$cmd" > /dev/null || { echo "spark-peer: $cmd is not installed (needed for the Spark peer)" >&2; exit 1; }
done
if ! "$dir/venv/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$version')" 2> /dev/null; then
  echo "spark-peer: installing pyspark $version into $dir/venv (pip, about a minute)..." >&2
  rm -rf "$dir/venv"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install -q "pyspark==$version" >&2
fi
libs="$dir/connector"
if [ ! -f "$libs/.done" ]; then
  echo "spark-peer: resolving the Kafka connector jars from Maven Central..." >&2
  rm -rf "$libs"
  mvn -q -B -s "$root/tools/spark/settings.xml" -f "$root/tools/spark/pom.xml" \
    dependency:copy-dependencies "-Dspark.connector.libs=$libs" >&2
  touch "$libs/.done"
fi
echo "$dir/venv/bin/python"
ls "$libs"/*.jar | paste -sd, -
