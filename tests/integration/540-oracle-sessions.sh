#!/bin/bash
# oracle-sessions: the oracle (tests/oracle, see its README) on the families
# sessions protocols http ldap smtp: each scenario runs under this daemon and under stunnel 5.75
# with the same peers; what the peers saw and the log events at
# "debug = debug" must agree, or the difference be in
# tests/oracle/DIFFERENCES. Skips without the 5.75 reference
# (../shared/reference/stunnel-5.75 or $STUNNEL_575_DIR).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
export STUNNEL
ORACLE_RESULTS=$PWD/oracle-540.json exec python3 "$LIB_DIR/../oracle/oracle.py" run sessions protocols http ldap smtp
