/* Stub. */
#include "config.h"
#include "tap.h"
static void t_stub(void) { tap_skip("not written yet"); }
static const struct tap_case cases[] = { TAP_CASE(t_stub, 5) };
int main(void) { return tap_run(cases, 1); }
