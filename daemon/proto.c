/*
 * The control protocol: parsing what vigild receives, and a safe JSON
 * string for what it sends. See proto.h and vigilctl(8). No state; any
 * thread. Input is untrusted: every key and value is checked here, so the
 * command code in control.c only sees well-formed requests.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "xmalloc.h"

static const char *const cmd_names[PROTO_NCMDS] = {
	"status", "start", "stop", "restart", "signal", "reload", "shutdown",
	"version", "log", "reexec"
};

/* Which keys each command takes, besides "command". */
#define K_ARGS		0x01
#define K_WAIT		0x02
#define K_TIMEOUT	0x04
#define K_SIGNAL	0x08
#define K_LINES		0x10
#define K_FOLLOW	0x20

static const struct {
	unsigned int	keys;
	size_t		min_args;
	size_t		max_args;
} cmd_rules[PROTO_NCMDS] = {
	[PROTO_STATUS] =	{ K_ARGS, 0, PROTO_ARGS_MAX },
	[PROTO_START] =		{ K_ARGS | K_WAIT | K_TIMEOUT, 1,
				  PROTO_ARGS_MAX },
	[PROTO_STOP] =		{ K_ARGS | K_WAIT | K_TIMEOUT, 1,
				  PROTO_ARGS_MAX },
	[PROTO_RESTART] =	{ K_ARGS | K_WAIT | K_TIMEOUT, 1,
				  PROTO_ARGS_MAX },
	[PROTO_SIGNAL] =	{ K_ARGS | K_SIGNAL, 1, PROTO_ARGS_MAX },
	[PROTO_RELOAD] =	{ 0, 0, 0 },
	[PROTO_SHUTDOWN] =	{ K_WAIT, 0, 0 },
	[PROTO_VERSION_CMD] =	{ 0, 0, 0 },
	[PROTO_LOG] =		{ K_ARGS | K_LINES | K_FOLLOW, 1, 1 },
	[PROTO_REEXEC] =	{ 0, 0, 0 },
};

const char *
proto_cmd_name(enum proto_cmd cmd)
{
	if ((unsigned int)cmd >= PROTO_NCMDS)
		return NULL;
	return cmd_names[cmd];
}

/* Parse len bytes as one JSON object; NULL with a message otherwise. */
static json_t *
load_object(const char *msg, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;

	root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		snprintf(err, errlen, "malformed message: %s at byte %d",
		    je.text, je.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "malformed message: not a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

int
proto_hello_parse(const char *msg, size_t len, long *version, char *err,
    size_t errlen)
{
	json_t *root, *v;
	const char *key;
	int rc = -1;

	if ((root = load_object(msg, len, err, errlen)) == NULL)
		return -1;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "protocol") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 1000000) {
				snprintf(err, errlen, "malformed hello: "
				    "\"protocol\" must be a small integer");
				goto out;
			}
		} else if (strcmp(key, "client") == 0) {
			if (!json_is_string(v)) {
				snprintf(err, errlen, "malformed hello: "
				    "\"client\" must be a string");
				goto out;
			}
		}
		/* Other keys: for later versions; ignored. */
	}
	if ((v = json_object_get(root, "protocol")) == NULL) {
		snprintf(err, errlen, "malformed hello: no \"protocol\" "
		    "(a client must send its protocol version first)");
		goto out;
	}
	*version = (long)json_integer_value(v);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* [A-Za-z0-9_.-]{1,64} over len bytes. */
static int
name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 64)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

int
proto_selector_valid(const char *s)
{
	const char *colon;
	size_t i, n;

	if (strcmp(s, "all") == 0)
		return 1;
	if (strncmp(s, "group:", 6) == 0)
		return name_valid(s + 6, strlen(s + 6));
	if ((colon = strchr(s, ':')) == NULL)
		return name_valid(s, strlen(s));
	if (!name_valid(s, (size_t)(colon - s)))
		return 0;
	n = strlen(colon + 1);
	if (n == 0 || n > 4 || (n > 1 && colon[1] == '0'))
		return 0;
	for (i = 1; i <= n; i++)
		if (colon[i] < '0' || colon[i] > '9')
			return 0;
	return 1;
}

/* "args": an array of selectors. */
static int
parse_args(json_t *v, struct proto_request *req, char *err, size_t errlen)
{
	size_t i, n;
	json_t *e;
	const char *s;

	if (!json_is_array(v)) {
		snprintf(err, errlen, "\"args\" must be an array of strings");
		return -1;
	}
	n = json_array_size(v);
	if (n > PROTO_ARGS_MAX) {
		snprintf(err, errlen, "too many arguments (at most %d)",
		    PROTO_ARGS_MAX);
		return -1;
	}
	req->args = xcalloc(n + 1, sizeof *req->args);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			snprintf(err, errlen, "\"args\" must be an array of "
			    "strings");
			return -1;
		}
		s = json_string_value(e);
		if (json_string_length(e) != strlen(s) ||
		    json_string_length(e) > PROTO_SELECTOR_MAX ||
		    !proto_selector_valid(s)) {
			snprintf(err, errlen, "argument %zu is not a service "
			    "name, NAME:N, group:NAME or all", i + 1);
			return -1;
		}
		req->args[i] = s;
	}
	req->nargs = n;
	return 0;
}

/* One key of a request, allowed for the command by the keys mask. */
static int
parse_key(const char *key, json_t *v, unsigned int keys,
    struct proto_request *req, char *err, size_t errlen)
{
	const char *s;
	double d;

	if (strcmp(key, "command") == 0)
		return 0;
	if (strcmp(key, "args") == 0 && (keys & K_ARGS))
		return parse_args(v, req, err, errlen);
	if (strcmp(key, "wait") == 0 && (keys & K_WAIT)) {
		if (!json_is_boolean(v))
			goto type;
		req->wait = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "timeout") == 0 && (keys & K_TIMEOUT)) {
		if (!json_is_number(v))
			goto type;
		d = json_number_value(v);
		if (!(d > 0 && d <= PROTO_TIMEOUT_MAX)) {
			snprintf(err, errlen, "\"timeout\" must be more than 0 "
			    "and at most %.0f seconds", PROTO_TIMEOUT_MAX);
			return -1;
		}
		req->timeout_ms = (int64_t)(d * 1000 + 0.5);
		if (req->timeout_ms == 0)
			req->timeout_ms = 1;
		return 0;
	}
	if (strcmp(key, "signal") == 0 && (keys & K_SIGNAL)) {
		if (!json_is_string(v))
			goto type;
		s = json_string_value(v);
		if (json_string_length(v) == 0 ||
		    json_string_length(v) >= sizeof req->signame ||
		    json_string_length(v) != strlen(s)) {
			snprintf(err, errlen, "\"signal\" must be a signal "
			    "name or number");
			return -1;
		}
		memcpy(req->signame, s, strlen(s) + 1);
		return 0;
	}
	if (strcmp(key, "lines") == 0 && (keys & K_LINES)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > PROTO_LINES_MAX) {
			snprintf(err, errlen, "\"lines\" must be an integer "
			    "from 0 to %d", PROTO_LINES_MAX);
			return -1;
		}
		req->lines = (long)json_integer_value(v);
		return 0;
	}
	if (strcmp(key, "follow") == 0 && (keys & K_FOLLOW)) {
		if (!json_is_boolean(v))
			goto type;
		req->follow = json_is_true(v);
		return 0;
	}
	snprintf(err, errlen, "%s takes no \"%.32s\"",
	    cmd_names[req->cmd], key);
	return -1;
type:
	snprintf(err, errlen, "\"%s\" has the wrong type", key);
	return -1;
}

int
proto_request_parse(const char *msg, size_t len, struct proto_request *req,
    char *err, size_t errlen)
{
	json_t *root, *v;
	const char *key, *name;
	unsigned int i;

	memset(req, 0, sizeof *req);
	req->wait = 1;
	req->lines = PROTO_LOG_DEFAULT;
	if ((root = load_object(msg, len, err, errlen)) == NULL)
		return -1;
	req->root = root;
	v = json_object_get(root, "command");
	if (v == NULL || !json_is_string(v)) {
		snprintf(err, errlen, "malformed request: no \"command\" "
		    "string");
		goto fail;
	}
	name = json_string_value(v);
	for (i = 0; i < PROTO_NCMDS; i++)
		if (strcmp(name, cmd_names[i]) == 0)
			break;
	if (i == PROTO_NCMDS || json_string_length(v) != strlen(name)) {
		snprintf(err, errlen, "unknown command \"%.32s\"", name);
		goto fail;
	}
	req->cmd = (enum proto_cmd)i;
	json_object_foreach(root, key, v)
		if (parse_key(key, v, cmd_rules[i].keys, req, err,
		    errlen) == -1)
			goto fail;
	if (req->nargs < cmd_rules[i].min_args ||
	    req->nargs > cmd_rules[i].max_args) {
		if (cmd_rules[i].max_args == 0)
			snprintf(err, errlen, "%s takes no arguments", name);
		else if (cmd_rules[i].max_args == 1)
			snprintf(err, errlen, "%s takes one name", name);
		else
			snprintf(err, errlen, "%s needs a name", name);
		goto fail;
	}
	if (req->cmd == PROTO_SIGNAL && req->signame[0] == '\0') {
		snprintf(err, errlen, "signal needs a \"signal\"");
		goto fail;
	}
	return 0;
fail:
	proto_request_clear(req);
	return -1;
}

void
proto_request_clear(struct proto_request *req)
{
	free(req->args);
	json_decref(req->root);
	memset(req, 0, sizeof *req);
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * byte at s does not start one: no overlong forms, no surrogates, nothing
 * above U+10FFFF.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

json_t *
proto_string(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	char *buf;
	size_t i, o, n;
	json_t *j;

	for (i = 0; i < len; i += n)
		if ((n = utf8_seq(p + i, len - i)) == 0)
			break;
	if (i == len && (j = json_stringn(s, len)) != NULL)
		return j;
	/* Each bad byte becomes the 3 bytes of U+FFFD. */
	buf = xreallocarray(NULL, len + 1, 3);
	for (i = o = 0; i < len; i += n) {
		if ((n = utf8_seq(p + i, len - i)) == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(buf + o, s + i, n);
			o += n;
		}
	}
	j = json_stringn(buf, o);
	free(buf);
	if (j == NULL)
		j = json_string("");
	return j;
}
