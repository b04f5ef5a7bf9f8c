#!/bin/bash
# 599-oracle-table: after the oracle scripts (510-540; make runs them
# first): the entries of tests/oracle/DIFFERENCES that span families and
# explained nothing anywhere (fixed differences leave the table), the
# totals, and that every option of our -help is used by a scenario or
# listed in tests/oracle/UNCOVERED.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
export STUNNEL
exec python3 "$LIB_DIR/../oracle/oracle.py" table "$PWD"/oracle-5[0-9][0-9].json
