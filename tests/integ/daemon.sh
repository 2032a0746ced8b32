#!/bin/sh
. "$top_srcdir/tests/integ/lib.sh"
plan 1
skip stub "not written yet"
done_testing
