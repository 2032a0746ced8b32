/*
 * libFuzzer target for the control protocol's parser (daemon/proto.c).
 * The input is cut into lines as control.c frames a client's stream; the
 * first line goes to the hello parser, every line to the request parser.
 * A request that parses must satisfy what control.c relies on. Then the
 * whole input, as a JSON string through proto_string(), must encode to
 * JSON that parses back to the same string.
 *
 *   make fuzz && tests/fuzz/fuzz_proto -max_total_time=60 DIR corpus/
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What control.c assumes of a parsed request. */
static void
check_request(const struct proto_request *req)
{
	size_t i;

	if ((unsigned int)req->cmd >= PROTO_NCMDS ||
	    proto_cmd_name(req->cmd) == NULL || req->nargs > PROTO_ARGS_MAX ||
	    req->lines < 0 || req->lines > PROTO_LINES_MAX ||
	    req->timeout_ms < 0 ||
	    req->timeout_ms > (int64_t)(PROTO_TIMEOUT_MAX * 1000) + 1 ||
	    memchr(req->signame, '\0', sizeof req->signame) == NULL)
		abort();
	if (req->cmd == PROTO_LOG && req->nargs != 1)
		abort();
	if (req->cmd == PROTO_SIGNAL && req->signame[0] == '\0')
		abort();
	for (i = 0; i < req->nargs; i++)
		if (req->args[i] == NULL ||
		    strlen(req->args[i]) > PROTO_SELECTOR_MAX ||
		    !proto_selector_valid(req->args[i]))
			abort();
}

/* proto_string() gives valid JSON whatever the bytes. */
static void
check_string(const char *s, size_t len)
{
	json_t *j, *back;
	char *enc;

	j = proto_string(s, len);
	if (j == NULL || (enc = json_dumps(j, JSON_ENCODE_ANY)) == NULL)
		abort();
	back = json_loads(enc, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (back == NULL || !json_equal(j, back))
		abort();
	json_decref(back);
	json_decref(j);
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request req;
	const char *p = (const char *)data, *end = p + size, *nl;
	char err[256];
	size_t len;
	long version;
	int first = 1;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (len + 1 > PROTO_MSG_MAX)
			break;
		err[0] = '\0';
		if (first && proto_hello_parse(p, len, &version, err,
		    sizeof err) == -1 && err[0] == '\0')
			abort();
		first = 0;
		err[0] = '\0';
		if (proto_request_parse(p, len, &req, err, sizeof err) == 0) {
			check_request(&req);
			proto_request_clear(&req);
		} else if (err[0] == '\0' || req.root != NULL ||
		    req.args != NULL)
			abort();
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	check_string((const char *)data, size);
	return 0;
}
