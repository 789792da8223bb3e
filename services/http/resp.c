#include "http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one errno → status table. Messages are what a reader may see. */
static const struct {
	int err;
	int status;
	const char *code;
	const char *message;
} errno_table[] = {
    {EINVAL, 400, "bad_request", "请求内容不正确 (bad request)"},
    {EBADMSG, 400, "bad_request", "请求内容不正确 (bad request)"},
    {ENOENT, 404, "not_found", "未找到 (not found)"},
    {EACCES, 403, "forbidden", "无权访问 (not allowed)"},
    {EPERM, 403, "forbidden", "无权访问 (not allowed)"},
    {EEXIST, 409, "conflict", "已存在 (already exists)"},
    {EMSGSIZE, 413, "too_large", "请求内容过大 (request too large)"},
    {ENOTSUP, 415, "unsupported", "不支持的格式 (unsupported format)"},
    {EAGAIN, 429, "throttled", "请求过于频繁，请稍后再试 (too many requests)"},
    {EBUSY, 503, "busy", "服务繁忙，请稍后再试 (busy, try again)"},
    {ENOMEM, 503, "busy", "服务繁忙，请稍后再试 (busy, try again)"},
    {ENOSPC, 503, "storage_full", "存储空间不足，请联系图书馆 (storage full)"},
    {EIO, 503, "storage_error", "存储出错，请稍后再试 (storage error)"},
    {EROFS, 503, "storage_error", "存储出错，请稍后再试 (storage error)"},
};

void http_errno_status(int err, int *status, const char **code, const char **message)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++) {
		if (errno_table[i].err == err) {
			*status = errno_table[i].status;
			*code = errno_table[i].code;
			*message = errno_table[i].message;
			return;
		}
	}
	*status = 500;
	*code = "internal";
	*message = "服务器内部错误 (internal error)";
}

int resp_json(struct http_resp *resp, int status, json_t *value)
{
	char *s;

	if (!value)
		return -ENOMEM;
	s = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(value);
	if (!s)
		return -ENOMEM;
	free(resp->body);
	resp->body = s;
	resp->body_len = strlen(s);
	resp->status = status;
	resp->content_type = "application/json; charset=utf-8";
	return 0;
}

int resp_error(struct http_resp *resp, int status, const char *code, const char *message)
{
	json_t *v = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);

	if (resp_json(resp, status, v)) {
		/* Out of memory: still answer, with no body. */
		resp->status = status;
	}
	return 0;
}

int resp_header(struct http_resp *resp, const char *name, const char *value)
{
	if (resp->nheaders >= RESP_MAX_HEADERS)
		return -ENOSPC;
	resp->header_name[resp->nheaders] = name;
	resp->header_value[resp->nheaders] = value;
	resp->nheaders++;
	return 0;
}

const char *http_req_param(struct http_req *req, const char *name)
{
	for (int i = 0; i < req->nparams; i++)
		if (strcmp(req->param_name[i], name) == 0)
			return req->param_value[i];
	return NULL;
}

static int parse_ll(const char *s, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s || strlen(s) > 19)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if ((*p < '0' || *p > '9') && !(p == s && *p == '-'))
			return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int http_param_id(struct http_req *req, struct http_resp *resp, const char *name, long long *out)
{
	long long v;

	if (parse_ll(http_req_param(req, name), &v) || v <= 0) {
		resp_error(resp, 404, "not_found", "未找到 (not found)");
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int http_query_int(struct http_req *req, struct http_resp *resp, const char *name, long long min,
                   long long max, long long *out)
{
	const char *s = http_req_query(req, name);
	long long v;

	if (!s)
		return 0;
	if (parse_ll(s, &v) || v < min || v > max) {
		char *msg = arena_printf(req->arena, "参数 %s 应为 %lld 到 %lld 之间的整数", name,
		                         min, max);
		resp_error(resp, 400, "bad_parameter", msg ? msg : "参数不正确");
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Nesting depth of JSON text, counted outside strings; the parser then never recurses deeply. */
static int json_depth(const char *s, size_t n)
{
	int depth = 0, max = 0;
	bool in_str = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if (c == '}' || c == ']')
			depth--;
	}
	return max;
}

static void decref(void *p)
{
	json_decref(p);
}

#define JSON_MAX_DEPTH 32

int http_req_json(struct http_req *req, struct http_resp *resp, json_t **out)
{
	json_error_t err;
	json_t *v;
	char *msg;

	*out = NULL;
	if (!req->body || req->body_len == 0) {
		resp_error(resp, 400, "bad_json",
		           "请求体应为 JSON 对象 (a JSON object is required)");
		return -EINVAL;
	}
	if (json_depth(req->body, req->body_len) > JSON_MAX_DEPTH) {
		resp_error(resp, 400, "bad_json", "JSON 嵌套过深 (JSON nested too deeply)");
		return -EINVAL;
	}
	v = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!v) {
		msg = arena_printf(req->arena, "JSON 格式错误：%s (line %d)", err.text, err.line);
		resp_error(resp, 400, "bad_json", msg ? msg : "JSON 格式错误");
		return -EINVAL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		resp_error(resp, 400, "bad_json",
		           "请求体应为 JSON 对象 (a JSON object is required)");
		return -EINVAL;
	}
	if (arena_defer(req->arena, decref, v))
		return -ENOMEM;
	*out = v;
	return 0;
}

int http_unpack(struct http_resp *resp, json_t *in, const char *fmt, ...)
{
	json_error_t err;
	va_list ap;
	char msg[256];
	int rc;

	va_start(ap, fmt);
	rc = json_vunpack_ex(in, &err, JSON_STRICT, fmt, ap);
	va_end(ap);
	if (rc == 0)
		return 0;
	snprintf(msg, sizeof(msg), "请求字段不正确：%s", err.text);
	resp_error(resp, 400, "bad_field", msg);
	return -EINVAL;
}
