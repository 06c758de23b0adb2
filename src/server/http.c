/*
 * HTTP front end of `tightrope serve`: the libmicrohttpd daemon, body accumulation with a
 * size limit, authentication, routing through the table in routes.c, embedded assets and the
 * security headers every response carries.
 */
#include "server/assets.h"
#include "server/server_impl.h"

#include "tightrope/base.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_HEADER "X-Tightrope-Token"

/* Per-connection request state, kept between the calls libmicrohttpd makes for one request. */
typedef struct req_state {
  tr_sb body;
  int too_big;
} req_state;

void tr_server_options_init(tr_server_options *o) {
  o->workspace = ".";
  o->bind = "127.0.0.1";
  o->port = 8700;
  o->threads = 4;
  o->max_body = 8u << 20;
  o->max_runs = 100000;
  o->max_wait_runs = 10000;
}

int tr_http_token_equal(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  unsigned char diff = (unsigned char)(la != lb);
  /* Walk the expected token's full length whatever `a` holds: time depends only on lb. */
  for (size_t i = 0; i < lb; i++)
    diff |= (unsigned char)((i < la ? a[i] : 0) ^ b[i]);
  return diff == 0;
}

void tr_http_json(tr_http_resp *resp, int status, cJSON *json) {
  if (resp->json) cJSON_Delete(resp->json);
  if (!json) {
    resp->json = NULL;
    tr_http_error(resp, 500, "out of memory");
    return;
  }
  resp->status = status;
  resp->json = json;
}

void tr_http_error(tr_http_resp *resp, int status, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (resp->json) cJSON_Delete(resp->json);
  resp->json = NULL;
  resp->status = status;
  cJSON *root = cJSON_CreateObject();
  cJSON *err = root ? cJSON_AddObjectToObject(root, "error") : NULL;
  if (err && cJSON_AddNumberToObject(err, "status", status) &&
      cJSON_AddStringToObject(err, "message", msg)) {
    resp->json = root;
    return;
  }
  cJSON_Delete(root);
}

static void add_security_headers(struct MHD_Response *r, int api) {
  MHD_add_response_header(r, "Content-Security-Policy",
                          "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                          "base-uri 'none'; form-action 'self'");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
  MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(r, "Cache-Control", api ? "no-store" : "no-cache");
}

static enum MHD_Result send_bytes(struct MHD_Connection *c, int status, const char *type,
                                  const void *data, size_t len, int copy, int api,
                                  const char *allow) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len, (void *)(uintptr_t)data, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", type);
  if (allow) MHD_add_response_header(r, "Allow", allow);
  add_security_headers(r, api);
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result send_resp(struct MHD_Connection *c, tr_http_resp *resp, const char *allow) {
  enum MHD_Result ret;
  if (resp->json) {
    char *text = cJSON_PrintUnformatted(resp->json);
    cJSON_Delete(resp->json);
    resp->json = NULL;
    if (!text) {
      static const char oom[] = "{\"error\":{\"status\":500,\"message\":\"out of memory\"}}";
      return send_bytes(c, 500, "application/json", oom, sizeof oom - 1, 0, 1, NULL);
    }
    ret = send_bytes(c, resp->status, "application/json", text, strlen(text), 1, 1, allow);
    cJSON_free(text);
  } else if (resp->text) {
    ret = send_bytes(c, resp->status,
                     resp->content_type ? resp->content_type : "text/plain; charset=utf-8",
                     resp->text, strlen(resp->text), 1, 1, allow);
    tr_free(resp->text);
    resp->text = NULL;
  } else {
    static const char empty[] = "{}";
    ret =
        send_bytes(c, resp->status ? resp->status : 204, "application/json", empty, 2, 0, 1, allow);
  }
  return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *allow,
                                  const char *fmt, ...) {
  tr_http_resp resp = {0, NULL, NULL, NULL};
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  tr_http_error(&resp, status, "%s", msg);
  return send_resp(c, &resp, allow);
}

/* Match `path` against a pattern with {name} segments; fills params (pointers into `buf`). */
static int match_route(const char *pattern, const char *path, char *buf, size_t cap,
                       const char **params, int *nparams) {
  size_t used = 0;
  *nparams = 0;
  while (*pattern && *path) {
    if (*pattern == '{') {
      const char *pe = strchr(pattern, '}');
      const char *seg_end = strchr(path, '/');
      size_t n = seg_end ? (size_t)(seg_end - path) : strlen(path);
      if (!pe || n == 0 || used + n + 1 > cap || *nparams >= 4) return 0;
      memcpy(buf + used, path, n);
      buf[used + n] = '\0';
      params[(*nparams)++] = buf + used;
      used += n + 1;
      pattern = pe + 1;
      path += n;
      continue;
    }
    if (*pattern != *path) return 0;
    pattern++;
    path++;
  }
  return *pattern == '\0' && *path == '\0';
}

/* A path is served only if it is plain: no "..", no backslash, no control bytes. */
static int path_is_safe(const char *p) {
  if (p[0] != '/') return 0;
  for (const char *s = p; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || c == 0x7f || c == '\\') return 0;
    if (c == '.' && s[1] == '.') return 0;
  }
  return 1;
}

/* Decode %XX escapes and '+' (a space) in place, as libmicrohttpd decodes query arguments. */
static char *unescape(char *s) {
  char *w = s;
  for (const char *r = s; *r; r++) {
    if (*r == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
      char hex[3] = {r[1], r[2], '\0'};
      *w++ = (char)strtol(hex, NULL, 16);
      r += 2;
    } else {
      *w++ = *r == '+' ? ' ' : *r;
    }
  }
  *w = '\0';
  return s;
}

/* Split a query ("a=1&b&c=%20") in place into at most 16 names and values (NULL for a name
 * without '='); returns their count, -1 when there are more. */
static int parse_query(char *q, const char **names, const char **values) {
  int n = 0;
  while (q) {
    char *amp = strchr(q, '&');
    if (amp) *amp++ = '\0';
    if (*q) {
      if (n == 16) return -1;
      char *eq = strchr(q, '=');
      if (eq) *eq++ = '\0';
      names[n] = unescape(q);
      values[n] = eq ? unescape(eq) : NULL;
      n++;
    }
    q = amp;
  }
  return n;
}

const char *tr_http_query(const tr_http_req *req, const char *name) {
  if (req->conn) return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
  for (int i = 0; i < req->nquery; i++)
    if (!strcmp(req->qname[i], name)) return req->qvalue[i];
  return NULL;
}

/* Set out->resp to a JSON error (as send_error does, without the socket). */
static int result_error(tr_http_result *out, int status, const char *allow, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  tr_http_error(&out->resp, status, "%s", msg);
  snprintf(out->allow, sizeof out->allow, "%s", allow ? allow : "");
  return out->resp.status;
}

int tr_http_handle(tr_server *srv, const char *method, const char *url, const char *token,
                   const char *body, size_t body_len, struct MHD_Connection *conn,
                   tr_http_result *out) {
  memset(out, 0, sizeof *out);
  out->resp.status = 200;
  /* Without a connection the URL may carry its query: the path is what comes before it.
   * (libmicrohttpd takes the query off, and a '?' in its URL is a decoded %3F of the path.) */
  char qbuf[2048];
  const char *qname[16], *qvalue[16];
  int nquery = 0;
  const char *qmark = conn ? NULL : strchr(url, '?');
  if (qmark) {
    size_t len = strlen(url), at = (size_t)(qmark - url);
    if (len >= sizeof qbuf)
      return result_error(out, 414, NULL, "URL longer than %zu bytes", sizeof qbuf - 1);
    memcpy(qbuf, url, len + 1);
    qbuf[at] = '\0';
    nquery = parse_query(qbuf + at + 1, qname, qvalue);
    if (nquery < 0) return result_error(out, 414, NULL, "more than 16 query arguments");
    url = qbuf;
  }
  if (!path_is_safe(url)) return result_error(out, 400, NULL, "invalid path");
  int is_read = !strcmp(method, "GET") || !strcmp(method, "HEAD");
  if (!strcmp(method, "OPTIONS"))
    return result_error(out, 405, "GET, HEAD, POST, PUT, DELETE",
                        "cross-origin requests are not served");

  /* Authentication: writes always; everything when reachable from other hosts. */
  if (!is_read || !srv->loopback) {
    if (!token) return result_error(out, 401, NULL, "missing %s header", TOKEN_HEADER);
    if (!tr_http_token_equal(token, srv->token)) return result_error(out, 403, NULL, "wrong token");
  }

  if (strncmp(url, "/api", 4) != 0 || (url[4] != '\0' && url[4] != '/')) {
    if (!is_read) return result_error(out, 405, "GET, HEAD", "method %s not allowed here", method);
    const char *name = url[1] ? url + 1 : "index.html";
    out->asset = tr_asset_find(name);
    if (!out->asset) return result_error(out, 404, NULL, "no such page or asset: %s", url);
    return 200;
  }

  char pbuf[512];
  const char *params[4];
  int nparams = 0, path_matched = 0;
  char allow[64] = "";
  const char *want = !strcmp(method, "HEAD") ? "GET" : method;
  for (int i = 0; i < tr_nroutes; i++) {
    const tr_route *rt = &tr_routes[i];
    if (!match_route(rt->pattern, url, pbuf, sizeof pbuf, params, &nparams)) continue;
    path_matched = 1;
    if (strcmp(rt->method, want) != 0) {
      if (strlen(allow) + strlen(rt->method) + 3 < sizeof allow) {
        if (allow[0]) strcat(allow, ", ");
        strcat(allow, rt->method);
      }
      continue;
    }
    tr_http_req req;
    memset(&req, 0, sizeof req);
    req.srv = srv;
    req.method = method;
    req.path = url;
    memcpy(req.params, params, sizeof params);
    req.nparams = nparams;
    req.body = body;
    req.body_len = body_len;
    req.conn = conn;
    memcpy(req.qname, qname, sizeof qname);
    memcpy(req.qvalue, qvalue, sizeof qvalue);
    req.nquery = nquery;
    if (rt->flags & TR_ROUTE_JSON_BODY) {
      const char *end = NULL;
      req.json = cJSON_ParseWithLengthOpts(req.body, req.body_len, &end, 0);
      if (!req.json || !cJSON_IsObject(req.json)) {
        long at = end ? (long)(end - req.body) : 0;
        cJSON_Delete(req.json);
        if (req.body_len == 0)
          return result_error(out, 400, NULL, "a JSON object body is required");
        return result_error(out, 400, NULL, "malformed JSON body at byte %ld: expected an object",
                            at);
      }
    }
    rt->handler(&req, &out->resp);
    cJSON_Delete(req.json);
    return out->resp.status;
  }
  if (path_matched)
    return result_error(out, 405, allow, "method %s not allowed on %s", method, url);
  return result_error(out, 404, NULL, "unknown API route %s (see GET /api)", url);
}

static enum MHD_Result dispatch(tr_server *srv, struct MHD_Connection *c, const char *url,
                                const char *method, req_state *st) {
  tr_http_result out;
  const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, TOKEN_HEADER);
  tr_http_handle(srv, method, url, tok, tr_sb_str(&st->body), st->body.len, c, &out);
  if (out.asset)
    return send_bytes(c, 200, out.asset->mime, out.asset->data, (size_t)out.asset->size, 0, 0,
                      NULL);
  return send_resp(c, &out.resp, out.allow[0] ? out.allow : NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls) {
  (void)version;
  tr_server *srv = cls;
  req_state *st = *req_cls;
  if (!st) {
    st = tr_calloc(1, sizeof *st);
    if (!st) return MHD_NO;
    tr_sb_init(&st->body);
    *req_cls = st;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > srv->opt.max_body) {
      st->too_big = 1;
      return send_error(c, 413, NULL, "request body larger than %zu bytes", srv->opt.max_body);
    }
    return MHD_YES;
  }
  if (*upload_size) {
    if (!st->too_big) {
      if (st->body.len + *upload_size > srv->opt.max_body)
        st->too_big = 1;
      else
        tr_sb_appendn(&st->body, upload, *upload_size);
    }
    *upload_size = 0;
    return MHD_YES;
  }
  if (st->too_big)
    return send_error(c, 413, NULL, "request body larger than %zu bytes", srv->opt.max_body);
  if (!tr_sb_ok(&st->body)) return send_error(c, 500, NULL, "out of memory");
  return dispatch(srv, c, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode code) {
  (void)cls;
  (void)c;
  (void)code;
  req_state *st = *req_cls;
  if (st) {
    tr_sb_free(&st->body);
    tr_free(st);
  }
  *req_cls = NULL;
}

/* Read WORKSPACE/.tightrope/token, or create it (mode 0600) with 256 random bits. */
static int load_or_create_token(tr_server *s, int *created, tr_error *err) {
  char dir[1100], path[1200];
  snprintf(dir, sizeof dir, "%s/.tightrope", s->workspace);
  snprintf(path, sizeof path, "%s/token", dir);
  *created = 0;
  FILE *f = fopen(path, "r");
  if (f) {
    size_t n = fread(s->token, 1, 64, f);
    fclose(f);
    s->token[n] = '\0';
    if (n == 64 && strspn(s->token, "0123456789abcdef") == 64) return TR_OK;
    return tr_error_set(
        err, TR_ERR_INVALID, path, 0, 0,
        "token file is corrupt (expected 64 hex digits); delete it to make a new one");
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return tr_error_set(err, TR_ERR_IO, dir, 0, 0, "cannot create folder: %s", strerror(errno));
  unsigned char raw[32];
  FILE *u = fopen("/dev/urandom", "rb");
  if (!u || fread(raw, 1, sizeof raw, u) != sizeof raw) {
    if (u) fclose(u);
    return tr_error_set(err, TR_ERR_IO, "/dev/urandom", 0, 0, "cannot read random bytes");
  }
  fclose(u);
  for (int i = 0; i < 32; i++)
    snprintf(s->token + 2 * i, 3, "%02x", raw[i]);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0)
    return tr_error_set(err, TR_ERR_IO, path, 0, 0, "cannot create token file: %s",
                        strerror(errno));
  ssize_t w = write(fd, s->token, 64);
  int closed = close(fd);
  if (w != 64 || closed != 0)
    return tr_error_set(err, TR_ERR_IO, path, 0, 0, "cannot write token file");
  *created = 1;
  return TR_OK;
}

int tr_server_start(const tr_server_options *o, tr_server **out, const char **created_token,
                    tr_error *err) {
  *out = NULL;
  if (created_token) *created_token = NULL;
  tr_server *s = tr_calloc(1, sizeof *s);
  if (!s) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
  s->opt = *o;
  snprintf(s->workspace, sizeof s->workspace, "%s", o->workspace ? o->workspace : ".");
  pthread_mutex_init(&s->ws_lock, NULL);
  pthread_mutex_init(&s->cache_lock, NULL);

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)o->port);
  if (o->port < 0 || o->port > 65535 || inet_pton(AF_INET, o->bind, &addr.sin_addr) != 1) {
    tr_server_stop(s);
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0, "invalid address %s:%d", o->bind, o->port);
  }
  if (o->max_runs < 1 || o->max_wait_runs < 1) {
    tr_server_stop(s);
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0, "the run limits must be at least 1");
  }
  s->loopback = (ntohl(addr.sin_addr.s_addr) >> 24) == 127;

  int created = 0;
  int rc = load_or_create_token(s, &created, err);
  if (rc) {
    tr_server_stop(s);
    return rc;
  }
  s->jobs = tr_jobs_new(2);
  if (!s->jobs) {
    tr_server_stop(s);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
  }
  s->daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, &on_request, s,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
      (unsigned)(o->threads > 0 ? o->threads : 4), MHD_OPTION_NOTIFY_COMPLETED, &on_completed, s,
      MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 512u,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
  if (!s->daemon) {
    int port = o->port;
    tr_server_stop(s);
    return tr_error_set(err, TR_ERR_IO, NULL, 0, 0,
                        "cannot listen on %s:%d (in use, or not an address of this machine)",
                        o->bind, port);
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info ? info->port : o->port;
  if (created && created_token) *created_token = s->token;
  *out = s;
  return TR_OK;
}

int tr_server_port(const tr_server *s) {
  return s->port;
}

const char *tr_server_token(const tr_server *s) {
  return s->token;
}

void tr_server_stop(tr_server *s) {
  if (!s) return;
  if (s->daemon) MHD_stop_daemon(s->daemon);
  tr_jobs_free(s->jobs);
  pthread_mutex_destroy(&s->ws_lock);
  pthread_mutex_destroy(&s->cache_lock);
  tr_free(s->assess_text);
  tr_free(s);
}

const tr_asset *tr_asset_find(const char *name) {
  for (int i = 0; i < tr_assets_count; i++)
    if (strcmp(tr_assets[i].name, name) == 0) return &tr_assets[i];
  return NULL;
}
