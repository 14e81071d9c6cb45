# pipeline_soak: the short soak (tests/soak.sh): 10 kill -9 at random
# instants against the faulty fake server, then exactly-once checks.
# `make soak` runs 200.
exec sh "$(dirname "$0")/../soak.sh" 10
