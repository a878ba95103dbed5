/* Tests what a server on a school network is configured with and hands out (issue 13):
 * core/config_edge.c's keys (tls, certificate paths, HOST:PORT listeners, log format, TURN
 * URIs, secret and lifetime, the ICE-TCP port) with good and bad values; config_tls_on's
 * "auto" rule; access/turn.c's credentials against a vector computed independently
 * (Python's hmac: base64(HMAC-SHA1("north-star", "1700000000:p1"))), its ICE server JSON
 * and Link headers (RFC 9725 §4.6); transport/tls_cert.c making a self-signed pair, its
 * fingerprint, keeping it on a second call, and refusing a key that does not match. */
#include <stdlib.h>
#include <unistd.h>

#include "access/turn.h"
#include "core/config.h"
#include "test.h"
#include "transport/tls_cert.h"

static char err[512];

static int set(struct config *c, const char *key, const char *value)
{
    return config_set(c, key, value, err, sizeof err);
}

static void test_keys(void)
{
    struct config c = config_defaults;
    CHECK_EQ(c.tls, CONFIG_TLS_AUTO);
    CHECK_EQ(c.turn_ttl_s, 21600);
    CHECK_EQ(set(&c, "tls", "on"), 0);
    CHECK_EQ(c.tls, CONFIG_TLS_ON);
    CHECK_EQ(set(&c, "tls", "sometimes"), -1);
    CHECK(strstr(err, "auto") != NULL);
    CHECK_EQ(set(&c, "tls_cert", "/etc/cr/cert.pem"), 0);
    CHECK_STR(c.tls_cert, "/etc/cr/cert.pem");
    CHECK_EQ(set(&c, "http_redirect", ":80"), 0);
    CHECK_EQ(set(&c, "http_redirect", "[::]:80"), 0);
    CHECK_EQ(set(&c, "http_redirect", ""), 0);
    CHECK_EQ(set(&c, "metrics_listen", "127.0.0.1:99999"), -1);
    CHECK_EQ(set(&c, "metrics_listen", "127.0.0.1"), -1);
    CHECK_EQ(set(&c, "metrics_listen", "bad host:9100"), -1);
    CHECK_EQ(set(&c, "metrics_listen", "127.0.0.1:9100"), 0);
    CHECK_EQ(set(&c, "log_format", "json"), 0);
    CHECK_EQ(c.log_format, 1);
    CHECK_EQ(set(&c, "log_format", "xml"), -1);
    CHECK_EQ(set(&c, "turn_uri", "turn:a:3478?transport=udp,turns:b:443?transport=tcp"), 0);
    CHECK_EQ(set(&c, "turn_uri", "turn:a:3478,stun:b"), -1);
    CHECK_EQ(set(&c, "turn_uri", "http://a"), -1);
    CHECK_EQ(set(&c, "turn_ttl", "59"), -1);
    CHECK_EQ(set(&c, "turn_ttl", "3600x"), -1);
    CHECK_EQ(set(&c, "turn_ttl", "3600"), 0);
    CHECK_EQ(c.turn_ttl_s, 3600);
    CHECK_EQ(set(&c, "ice_tcp_port", "443"), 0);
    CHECK_EQ(c.ice_tcp_port, 443);
    CHECK_EQ(set(&c, "ice_tcp_port", "65536"), -1);
    CHECK_EQ(set(&c, "ice_tcp_port", "-1"), -1);
}

static void test_tls_auto(void)
{
    struct config c = config_defaults;
    CHECK(!config_tls_on(&c)); /* 127.0.0.1: the README's http:// keeps working */
    CHECK_EQ(set(&c, "listen", "0.0.0.0:8443"), 0);
    CHECK(config_tls_on(&c));
    CHECK_EQ(set(&c, "listen", "[::1]:8080"), 0);
    CHECK(!config_tls_on(&c));
    CHECK_EQ(set(&c, "listen", "10.1.2.3:443"), 0);
    CHECK(config_tls_on(&c));
    CHECK_EQ(set(&c, "tls", "off"), 0);
    CHECK(!config_tls_on(&c));
    CHECK_EQ(set(&c, "listen", "127.0.0.1:8080"), 0);
    CHECK_EQ(set(&c, "tls", "on"), 0);
    CHECK(config_tls_on(&c));
}

static void collect(void *user, const char *link)
{
    strcat(user, link);
    strcat(user, "\n");
}

static void test_turn(void)
{
    struct config c = config_defaults;
    struct turn_cred t;
    CHECK(!turn_enabled(&c));
    CHECK_EQ(turn_credentials(&c, "p1", 1700000000 - 21600, &t), -1);
    CHECK_EQ(
        set(&c, "turn_uri", "turn:10.0.0.1:3478?transport=udp,turns:t.example:443?transport=tcp"),
        0);
    CHECK_EQ(set(&c, "turn_secret", "north-star"), 0);
    CHECK(turn_enabled(&c));
    CHECK_EQ(turn_credentials(&c, "p1", 1700000000 - 21600, &t), 0);
    CHECK_STR(t.username, "1700000000:p1");
    CHECK_STR(t.password, "FFjAU+LgiDl0hS2wf/0nj/G3svo=");
    CHECK_EQ(t.expires_s, 1700000000);
    CHECK_EQ(turn_credentials(&c, "a:b\"c\n<d>", 0, &t), 0); /* only safe characters kept */
    CHECK_STR(t.username, "21600:abcd");
    json_t *v = turn_ice_servers_json(&c, &t);
    CHECK(v && json_array_size(v) == 1);
    json_t *urls = json_object_get(json_array_get(v, 0), "urls");
    CHECK_EQ(json_array_size(urls), 2);
    CHECK_STR(json_string_value(json_array_get(urls, 1)), "turns:t.example:443?transport=tcp");
    CHECK_STR(json_string_value(json_object_get(json_array_get(v, 0), "username")), "21600:abcd");
    json_decref(v);
    char links[2048] = "";
    turn_each_link(&c, &t, collect, links);
    char want[1024];
    snprintf(want, sizeof want,
             "<turn:10.0.0.1:3478?transport=udp>; rel=\"ice-server\"; username=\"21600:abcd\"; "
             "credential=\"%s\"; credential-type=\"password\"\n<turns:t.example:443?transport=tcp>",
             t.password);
    CHECK(strncmp(links, want, strlen(want)) == 0);
}

static void test_cert(void)
{
    char dir[] = "/tmp/cr-test-edge-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct tls_paths p;
    snprintf(p.cert, sizeof p.cert, "%s/cert.pem", dir);
    snprintf(p.key, sizeof p.key, "%s/key.pem", dir);
    const char *names[] = {"10.1.2.3", "fd00::2", "school-server", "localhost"};
    bool made = false;
    CHECK_EQ(tls_cert_ensure(&p, names, 4, &made, err, sizeof err), 0);
    CHECK(made);
    char fp1[100], fp2[100];
    CHECK_EQ(tls_cert_fingerprint(p.cert, fp1, sizeof fp1), 0);
    CHECK_EQ(strlen(fp1), 95);
    CHECK_EQ(tls_cert_load(NULL, &p, err, sizeof err), 0);
    CHECK_EQ(tls_cert_ensure(&p, names, 4, &made, err, sizeof err), 0); /* kept */
    CHECK(!made);
    CHECK_EQ(tls_cert_fingerprint(p.cert, fp2, sizeof fp2), 0);
    CHECK_STR(fp1, fp2);
    CHECK_EQ(access(p.key, R_OK), 0);
    /* another pair's key: refused, with a reason */
    struct tls_paths q;
    snprintf(q.cert, sizeof q.cert, "%s/other/cert.pem", dir);
    snprintf(q.key, sizeof q.key, "%s/other/key.pem", dir);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/other", dir);
    CHECK_EQ(config_mkdirs(sub), 0);
    CHECK_EQ(tls_cert_ensure(&q, names, 1, &made, err, sizeof err), 0);
    snprintf(q.key, sizeof q.key, "%s", p.key);
    CHECK_EQ(tls_cert_load(NULL, &q, err, sizeof err), -1);
    CHECK(strstr(err, "does not match") != NULL || strstr(err, "key values mismatch") != NULL);
    snprintf(q.cert, sizeof q.cert, "%s/missing.pem", dir);
    CHECK_EQ(tls_cert_load(NULL, &q, err, sizeof err), -1);
    CHECK(strstr(err, "missing.pem") != NULL);
    CHECK_EQ(tls_cert_fingerprint(q.cert, fp2, sizeof fp2), -1);
    test_remove_tree(dir);
}

int main(void)
{
    test_keys();
    test_tls_auto();
    test_turn();
    test_cert();
    return test_report();
}
