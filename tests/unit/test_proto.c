/*
 * The control protocol (daemon/proto.c): the JSON strings vigild sends
 * for any bytes (every control character escaped, invalid UTF-8 replaced),
 * and the request parser's checks.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tap.h"

/* Encode len bytes of s as vigild does; the JSON text, allocated. */
static char *
encode(const char *s, size_t len)
{
	json_t *j = proto_string(s, len);
	char *out;

	CHECK(j != NULL);
	out = json_dumps(j, JSON_ENCODE_ANY);
	CHECK(out != NULL);
	json_decref(j);
	return out;
}

/* Decode a JSON string text back; its bytes in buf, its length returned. */
static size_t
decode(const char *text, char *buf, size_t size)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	size_t n;

	CHECKF(j != NULL && json_is_string(j), "not a JSON string: %s", text);
	n = json_string_length(j);
	CHECK(n <= size);
	memcpy(buf, json_string_value(j), n);
	json_decref(j);
	return n;
}

/* Every control character is escaped and comes back as itself. */
static void
t_control_chars(void)
{
	char in[3], back[8], *out;
	size_t i, n;
	int c;

	for (c = 0; c < 0x20; c++) {
		in[0] = 'a';
		in[1] = (char)c;
		in[2] = 'b';
		out = encode(in, 3);
		for (i = 0; out[i] != '\0'; i++)
			CHECKF((unsigned char)out[i] >= 0x20,
			    "raw control character 0x%02x in %s", c, out);
		n = decode(out, back, sizeof back);
		CHECKF(n == 3 && memcmp(in, back, 3) == 0,
		    "0x%02x does not come back", c);
		free(out);
	}
	out = encode("\"\\\x7f", 3);
	n = decode(out, back, sizeof back);
	CHECK(n == 3 && memcmp(back, "\"\\\x7f", 3) == 0);
	free(out);
}

/* Invalid UTF-8: each bad byte becomes U+FFFD, the rest stays. */
static void
t_invalid_utf8(void)
{
	static const struct {
		const char	*in;
		size_t		 len;
		unsigned int	 bad;
	} cases[] = {
		{ "ok\x80", 3, 1 },			/* lone continuation */
		{ "\xc0\x80", 2, 2 },			/* overlong NUL */
		{ "\xe0\x80\x80", 3, 3 },		/* overlong */
		{ "\xed\xa0\x80", 3, 3 },		/* surrogate */
		{ "\xf4\x90\x80\x80", 4, 4 },		/* above U+10FFFF */
		{ "\xe2\x82", 2, 2 },			/* truncated */
		{ "\xff\xfe", 2, 2 },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, 0 },
	};
	char back[64], *out;
	size_t i, n, k, fffd;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		out = encode(cases[i].in, cases[i].len);
		n = decode(out, back, sizeof back);
		for (k = fffd = 0; k + 3 <= n; k++)
			if (memcmp(back + k, "\xef\xbf\xbd", 3) == 0)
				fffd++;
		CHECKF(fffd == cases[i].bad, "case %zu: %zu U+FFFD, want %u",
		    i, fffd, cases[i].bad);
		if (cases[i].bad == 0)
			CHECK(n == cases[i].len &&
			    memcmp(back, cases[i].in, n) == 0);
		free(out);
	}
}

static int
parses(const char *msg)
{
	struct proto_request req;
	char err[256];
	int rc;

	rc = proto_request_parse(msg, strlen(msg), &req, err, sizeof err);
	if (rc == 0)
		proto_request_clear(&req);
	else
		CHECKF(err[0] != '\0', "no error message for %s", msg);
	return rc == 0;
}

/* What is a request, and what is not. */
static void
t_requests(void)
{
	struct proto_request req;
	char err[256];
	const char *m = "{\"command\": \"start\", \"args\": [\"web\", "
	    "\"web:3\", \"group:db\", \"all\"], \"wait\": false, "
	    "\"timeout\": 2.5}";

	CHECK(proto_request_parse(m, strlen(m), &req, err, sizeof err) == 0);
	CHECK(req.cmd == PROTO_START && req.nargs == 4 && req.wait == 0 &&
	    req.timeout_ms == 2500 && strcmp(req.args[1], "web:3") == 0);
	proto_request_clear(&req);
	CHECK(parses("{\"command\": \"status\"}"));
	CHECK(parses("{\"command\": \"signal\", \"args\": [\"a\"], "
	    "\"signal\": \"HUP\"}"));
	CHECK(parses("{\"command\": \"log\", \"args\": [\"a:0\"], "
	    "\"lines\": 0, \"follow\": true}"));
	CHECK(parses("{\"command\": \"shutdown\", \"wait\": false}"));
	CHECK(!parses(""));
	CHECK(!parses("[]"));
	CHECK(!parses("{\"command\": \"status\"} x"));
	CHECK(!parses("{\"command\": \"nosuch\"}"));
	CHECK(!parses("{\"command\": \"status\", \"command\": \"stop\"}"));
	CHECK(!parses("{\"command\": \"start\"}"));
	CHECK(!parses("{\"command\": \"reload\", \"args\": [\"a\"]}"));
	CHECK(!parses("{\"command\": \"log\", \"args\": [\"a\", \"b\"]}"));
	CHECK(!parses("{\"command\": \"status\", \"lines\": 3}"));
	CHECK(!parses("{\"command\": \"status\", \"args\": [3]}"));
	CHECK(!parses("{\"command\": \"status\", \"args\": [\"a b\"]}"));
	CHECK(!parses("{\"command\": \"signal\", \"args\": [\"a\"]}"));
	CHECK(!parses("{\"command\": \"start\", \"args\": [\"a\"], "
	    "\"timeout\": 0}"));
	CHECK(!parses("{\"command\": \"log\", \"args\": [\"a\"], "
	    "\"lines\": -1}"));
	CHECK(!parses("{\"command\": \"status\", \"args\": [\"a\\u0000\"]}"));
}

static void
t_selectors(void)
{
	CHECK(proto_selector_valid("web"));
	CHECK(proto_selector_valid("a.b-c_D9"));
	CHECK(proto_selector_valid("web:0"));
	CHECK(proto_selector_valid("web:1023"));
	CHECK(proto_selector_valid("group:front"));
	CHECK(proto_selector_valid("all"));
	CHECK(!proto_selector_valid(""));
	CHECK(!proto_selector_valid("web:"));
	CHECK(!proto_selector_valid("web:01"));
	CHECK(!proto_selector_valid("web:x"));
	CHECK(!proto_selector_valid("group:"));
	CHECK(!proto_selector_valid("a/b"));
	CHECK(!proto_selector_valid("../x"));
	CHECK(!proto_selector_valid(
	    "a12345678901234567890123456789012345678901234567890123456789012345"));
}

static int
hello(const char *msg, long *v)
{
	char err[256];

	return proto_hello_parse(msg, strlen(msg), v, err, sizeof err);
}

static void
t_hello(void)
{
	long v = 0;

	CHECK(hello("{\"protocol\": 1, \"client\": \"x\"}", &v) == 0 &&
	    v == 1);
	CHECK(hello("{\"protocol\": 7, \"later\": []}", &v) == 0 && v == 7);
	CHECK(hello("{\"client\": \"x\"}", &v) == -1);
	CHECK(hello("{\"protocol\": \"1\"}", &v) == -1);
	CHECK(hello("{\"protocol\": -1}", &v) == -1);
}

static const struct tap_case cases[] = {
	TAP_CASE(t_control_chars, 10),
	TAP_CASE(t_invalid_utf8, 10),
	TAP_CASE(t_requests, 10),
	TAP_CASE(t_selectors, 10),
	TAP_CASE(t_hello, 10),
};

int
main(void)
{
	return tap_run(cases, sizeof cases / sizeof cases[0]);
}
