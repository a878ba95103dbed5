/* SCTP over DTLS with usrsctp, and WebRTC data channels on it: see sctp.h.
 *
 * usrsctp is one process-wide stack. We start it once without threads; the AF_CONN
 * address of an association (and the ulp_info of its socket) is a number, looked up in a
 * table, so a callback for an association that is gone finds nothing instead of freed
 * memory. usrsctp calls back from inside usrsctp_conninput, usrsctp_handle_timers and
 * usrsctp_close; sends from those callbacks are queued (per thread) and flushed when the
 * outermost call returns, so usrsctp is never re-entered; an association freed inside a
 * callback is closed at the same point.
 *
 * Media workers run on several threads (relay/pool.h) and usrsctp's timers are one for the
 * process: whichever worker's tick runs them may find output or a notification for an
 * association of another worker. Such callbacks are posted to the association's home
 * thread (the context it was made on) with copies of what they carry, so an association
 * and its peer are only ever touched by their own worker.
 *
 * RFC 8831 §6.6: messages with PPID 51 (string) and 53 (binary), empty ones as 56/57 with
 * one byte; §6.7: closing a channel resets the outgoing stream, and the remote's reset of
 * its outgoing stream is answered with ours. RFC 8832 §6: DCEP OPEN is answered with
 * ACK on the same stream; the DTLS client opens even streams, the server odd ones. */
#include "net/sctp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#include "base/alloc.h"
#include "base/log.h"
#include "wire/dcep.h"

#define SCTP_MTU 1150 /* with a DTLS record's overhead (<= 37 bytes) within net/dtls.c's 1200 */

struct channel {
    uint16_t stream;
    bool unordered;
    char label[CR_SCTP_LABEL_MAX + 1];
    char protocol[CR_SCTP_LABEL_MAX + 1];
};

struct cr_sctp {
    struct socket *sock; /* owned */
    uintptr_t handle;    /* AF_CONN address and ulp_info: a key of the table, not a pointer */
    bool dtls_client, up, down_reported, dead;
    uint16_t local_port, remote_port;
    struct cr_sctp_callbacks cb;
    void *user;               /* borrowed */
    struct channel *channels; /* owned, n_channels of cap */
    size_t n_channels, cap_channels;
    uint8_t *partial; /* owned: a message arriving in pieces (no MSG_EOR yet) */
    size_t partial_len;
    bool partial_overflow;
    struct cr_sctp_stats st;
    struct cr_sctp *next_dead; /* state: closed when the outermost call returns */
    pthread_t home_thread;     /* where it was made: every callback for it runs there */
    GMainContext *home;        /* owned reference: that thread's context */
};

/* ---- the process-wide stack and its table of associations ---- */

static pthread_once_t stack_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cr_sctp **table; /* the live associations, n_table of cap_table */
static size_t n_table, cap_table;
static uintptr_t next_handle = 1;
static int64_t last_tick_ms; /* guarded by tick_lock */
static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;

struct pending { /* a send made inside a callback */
    uintptr_t handle;
    uint16_t stream;
    uint32_t ppid;
    uint8_t *buf; /* owned */
    size_t len;
};
static _Thread_local int depth; /* usrsctp calls in progress on this thread */
static _Thread_local struct pending *queue;
static _Thread_local size_t n_queue, cap_queue;
static _Thread_local struct cr_sctp *dead_list;

static struct cr_sctp *lookup(uintptr_t handle)
{
    struct cr_sctp *s = NULL;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < n_table && !s; i++)
        if (table[i]->handle == handle)
            s = table[i];
    pthread_mutex_unlock(&table_lock);
    return s && !s->dead ? s : NULL;
}

static void table_add(struct cr_sctp *s)
{
    pthread_mutex_lock(&table_lock);
    if (n_table == cap_table) {
        cap_table = cap_table ? cap_table * 2 : 16;
        table = cr_realloc(table, cap_table * sizeof *table);
    }
    s->handle = next_handle++;
    table[n_table++] = s;
    pthread_mutex_unlock(&table_lock);
}

static void table_remove(struct cr_sctp *s)
{
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < n_table; i++)
        if (table[i] == s) {
            table[i] = table[--n_table];
            break;
        }
    pthread_mutex_unlock(&table_lock);
}

/* ---- callbacks on another worker's thread: posted home ---- */

/* NULL when handle's association lives on this thread (or is gone); else a reference to
 * its home context. Read under the table's lock: the home thread may be freeing it. */
static GMainContext *foreign_home(uintptr_t handle)
{
    GMainContext *home = NULL;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < n_table; i++)
        if (table[i]->handle == handle) {
            if (!pthread_equal(table[i]->home_thread, pthread_self()))
                home = g_main_context_ref(table[i]->home);
            break;
        }
    pthread_mutex_unlock(&table_lock);
    return home;
}

struct posted { /* a callback carried to the association's thread */
    uintptr_t handle;
    bool output; /* a packet to send, else something received (data or a notification) */
    struct sctp_rcvinfo rcv;
    int flags;
    size_t len;
    uint8_t *data; /* owned */
};

static void posted_free(gpointer data)
{
    struct posted *p = data;
    free(p->data);
    free(p);
}

static void received(struct cr_sctp *s, void *data, size_t len, struct sctp_rcvinfo rcv, int flags);

static gboolean run_posted(gpointer data)
{
    struct posted *p = data;
    struct cr_sctp *s = lookup(p->handle);
    if (s && p->output)
        s->cb.send(s->user, p->data, p->len);
    else if (s)
        received(s, p->data, p->len, p->rcv, p->flags);
    return G_SOURCE_REMOVE;
}

static void post_home(GMainContext *home, struct posted *p)
{
    g_main_context_invoke_full(home, G_PRIORITY_DEFAULT, run_posted, p, posted_free);
    g_main_context_unref(home);
}

/* usrsctp has a packet for the association at addr. */
static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
    (void)tos;
    (void)set_df;
    GMainContext *home = foreign_home((uintptr_t)addr);
    if (home) {
        struct posted *p = CR_NEW(struct posted);
        *p = (struct posted){.handle = (uintptr_t)addr,
                             .output = true,
                             .len = len,
                             .data = cr_malloc(len ? len : 1)};
        memcpy(p->data, buf, len);
        post_home(home, p);
        return 0;
    }
    struct cr_sctp *s = lookup((uintptr_t)addr);
    if (s)
        s->cb.send(s->user, buf, len);
    return 0;
}

static void start_stack(void)
{
    usrsctp_init_nothreads(0, conn_output, NULL);
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_asconf_enable(0);
}

/* ---- re-entrancy: queued sends, deferred closes ---- */

static void send_now(struct cr_sctp *s, uint16_t stream, uint32_t ppid, const uint8_t *buf,
                     size_t len);
static void destroy(struct cr_sctp *s);

static void enter(void) { depth++; }

static void leave(void)
{
    if (depth > 1) {
        depth--;
        return;
    }
    /* outermost: what the callbacks asked for, in order */
    for (size_t i = 0; i < n_queue; i++) {
        struct cr_sctp *s = lookup(queue[i].handle);
        if (s)
            send_now(s, queue[i].stream, queue[i].ppid, queue[i].buf, queue[i].len);
        free(queue[i].buf);
    }
    n_queue = 0;
    while (dead_list) {
        struct cr_sctp *s = dead_list;
        dead_list = s->next_dead;
        destroy(s);
    }
    depth--;
}

static void enqueue(struct cr_sctp *s, uint16_t stream, uint32_t ppid, const uint8_t *buf,
                    size_t len)
{
    if (n_queue == cap_queue) {
        cap_queue = cap_queue ? cap_queue * 2 : 16;
        queue = cr_realloc(queue, cap_queue * sizeof *queue);
    }
    struct pending *p = &queue[n_queue++];
    *p = (struct pending){s->handle, stream, ppid, cr_malloc(len ? len : 1), len};
    memcpy(p->buf, buf, len);
}

/* ---- channels ---- */

static struct channel *channel_find(const struct cr_sctp *s, uint16_t stream)
{
    for (size_t i = 0; i < s->n_channels; i++)
        if (s->channels[i].stream == stream)
            return &s->channels[i];
    return NULL;
}

static struct channel *channel_add(struct cr_sctp *s, uint16_t stream)
{
    if (s->n_channels == s->cap_channels) {
        s->cap_channels = s->cap_channels ? s->cap_channels * 2 : 2;
        s->channels = cr_realloc(s->channels, s->cap_channels * sizeof *s->channels);
    }
    struct channel *c = &s->channels[s->n_channels++];
    memset(c, 0, sizeof *c);
    c->stream = stream;
    s->st.channels = (uint32_t)s->n_channels;
    return c;
}

static void channel_remove(struct cr_sctp *s, uint16_t stream)
{
    struct channel *c = channel_find(s, stream);
    if (!c)
        return;
    char label[CR_SCTP_LABEL_MAX + 1];
    memcpy(label, c->label, sizeof label);
    *c = s->channels[--s->n_channels];
    s->st.channels = (uint32_t)s->n_channels;
    if (!s->dead && s->cb.on_channel_closed)
        s->cb.on_channel_closed(s->user, stream, label);
}

static void copy_text(char *out, const char *text, size_t len)
{
    if (len > CR_SCTP_LABEL_MAX)
        len = CR_SCTP_LABEL_MAX;
    memcpy(out, text, len);
    out[len] = '\0';
}

/* RFC 8832 §6: the remote opens a channel; we acknowledge it on the same stream. */
static void on_dcep(struct cr_sctp *s, uint16_t stream, const uint8_t *buf, size_t len)
{
    struct dcep_msg m;
    if (dcep_parse(buf, len, &m) < 0 || (m.type == DCEP_MSG_OPEN && channel_find(s, stream))) {
        s->st.dcep_bad++;
        CR_LOG_RATE(CR_LOG_WARN, "sctp", "bad DCEP message on stream %u (%zu bytes)", stream, len);
        return;
    }
    if (m.type != DCEP_MSG_OPEN)
        return; /* an ACK of a channel we opened: we send before it anyway (§6) */
    struct channel *c = channel_add(s, stream);
    c->unordered = !dcep_channel_ordered(m.open.channel_type);
    copy_text(c->label, m.open.label, m.open.label_len);
    copy_text(c->protocol, m.open.protocol, m.open.protocol_len);
    uint8_t ack[4];
    size_t n = dcep_write_ack(ack, sizeof ack);
    enqueue(s, stream, DCEP_PPID_DCEP, ack, n);
    CR_DEBUG("sctp", "channel \"%s\" opened by the remote on stream %u", c->label, stream);
    if (s->cb.on_channel)
        s->cb.on_channel(s->user, stream, c->label, c->protocol);
}

static void on_message(struct cr_sctp *s, uint16_t stream, uint32_t ppid, const uint8_t *buf,
                       size_t len)
{
    if (ppid == DCEP_PPID_DCEP) {
        on_dcep(s, stream, buf, len);
        return;
    }
    bool binary = ppid == DCEP_PPID_BINARY || ppid == DCEP_PPID_BINARY_EMPTY;
    bool known = binary || ppid == DCEP_PPID_STRING || ppid == DCEP_PPID_STRING_EMPTY;
    if (!known || !channel_find(s, stream)) {
        s->st.dropped_unknown++;
        CR_LOG_RATE(CR_LOG_WARN, "sctp", "message dropped: stream %u, PPID %u", stream, ppid);
        return;
    }
    if (ppid == DCEP_PPID_STRING_EMPTY || ppid == DCEP_PPID_BINARY_EMPTY)
        len = 0; /* one byte on the wire, no content (RFC 8831 §6.6) */
    s->st.messages_in++;
    s->st.bytes_in += len;
    if (s->cb.on_message)
        s->cb.on_message(s->user, stream, buf, len, binary);
}

/* A message or a piece of one (usrsctp delivers partially past its delivery point). */
static void on_data(struct cr_sctp *s, uint16_t stream, uint32_t ppid, const uint8_t *buf,
                    size_t len, bool eor)
{
    if (eor && s->partial_len == 0 && !s->partial_overflow) {
        if (len > CR_SCTP_MAX_MESSAGE)
            s->st.dropped_oversize++;
        else
            on_message(s, stream, ppid, buf, len);
        return;
    }
    if (!s->partial)
        s->partial = cr_malloc(CR_SCTP_MAX_MESSAGE);
    if (s->partial_overflow || s->partial_len + len > CR_SCTP_MAX_MESSAGE) {
        s->partial_overflow = true;
    } else {
        memcpy(s->partial + s->partial_len, buf, len);
        s->partial_len += len;
    }
    if (!eor)
        return;
    if (s->partial_overflow)
        s->st.dropped_oversize++;
    else
        on_message(s, stream, ppid, s->partial, s->partial_len);
    s->partial_len = 0;
    s->partial_overflow = false;
}

/* ---- notifications ---- */

static void report_down(struct cr_sctp *s, const char *why)
{
    s->up = false;
    if (s->down_reported)
        return;
    s->down_reported = true;
    CR_INFO("sctp", "association down: %s", why);
    if (s->cb.on_down)
        s->cb.on_down(s->user, why);
}

static void on_assoc_change(struct cr_sctp *s, const struct sctp_assoc_change *c)
{
    switch (c->sac_state) {
    case SCTP_COMM_UP:
        s->up = true;
        CR_DEBUG("sctp", "association up (%u in, %u out streams)", c->sac_inbound_streams,
                 c->sac_outbound_streams);
        if (s->cb.on_up)
            s->cb.on_up(s->user);
        break;
    case SCTP_COMM_LOST:
        report_down(s, "the association was lost");
        break;
    case SCTP_SHUTDOWN_COMP:
        report_down(s, "the association was shut down");
        break;
    case SCTP_CANT_STR_ASSOC:
        report_down(s, "the association could not start");
        break;
    default:
        break;
    }
}

static void reset_outgoing(struct cr_sctp *s, uint16_t stream)
{
    size_t size = sizeof(struct sctp_reset_streams) + sizeof(uint16_t);
    struct sctp_reset_streams *r = cr_calloc(1, size);
    r->srs_assoc_id = SCTP_ALL_ASSOC;
    r->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    r->srs_number_streams = 1;
    r->srs_stream_list[0] = stream;
    if (usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, r, (socklen_t)size) < 0)
        CR_DEBUG("sctp", "stream %u reset: %s", stream, strerror(errno));
    free(r);
}

/* RFC 8831 §6.7: the remote reset its outgoing stream (it closed the channel): we reset
 * ours and the channel is gone. */
static void on_stream_reset(struct cr_sctp *s, const struct sctp_stream_reset_event *e, size_t len)
{
    if (len < sizeof *e || (e->strreset_flags & SCTP_STREAM_RESET_DENIED) ||
        (e->strreset_flags & SCTP_STREAM_RESET_FAILED))
        return;
    size_t n = (len - sizeof *e) / sizeof(uint16_t);
    for (size_t i = 0; i < n; i++) {
        uint16_t stream = e->strreset_stream_list[i];
        if ((e->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) && channel_find(s, stream))
            reset_outgoing(s, stream);
        channel_remove(s, stream);
    }
}

static void on_notification(struct cr_sctp *s, const union sctp_notification *n, size_t len)
{
    if (len < sizeof n->sn_header || n->sn_header.sn_length > len)
        return;
    switch (n->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
        if (len >= sizeof n->sn_assoc_change)
            on_assoc_change(s, &n->sn_assoc_change);
        break;
    case SCTP_STREAM_RESET_EVENT:
        on_stream_reset(s, &n->sn_strreset_event, n->sn_header.sn_length);
        break;
    case SCTP_SHUTDOWN_EVENT:
        report_down(s, "the remote shut the association down");
        break;
    default:
        break;
    }
}

static void received(struct cr_sctp *s, void *data, size_t len, struct sctp_rcvinfo rcv, int flags)
{
    enter();
    if (flags & MSG_NOTIFICATION)
        on_notification(s, data, len);
    else
        on_data(s, rcv.rcv_sid, ntohl(rcv.rcv_ppid), data, len, flags & MSG_EOR);
    leave();
}

static int receive_cb(struct socket *sock, union sctp_sockstore addr, void *data, size_t len,
                      struct sctp_rcvinfo rcv, int flags, void *ulp_info)
{
    (void)sock;
    (void)addr;
    GMainContext *home = data ? foreign_home((uintptr_t)ulp_info) : NULL;
    if (home) { /* usrsctp hands its buffer over: it travels with the job */
        struct posted *p = CR_NEW(struct posted);
        *p = (struct posted){
            .handle = (uintptr_t)ulp_info, .rcv = rcv, .flags = flags, .len = len, .data = data};
        post_home(home, p);
        return 1;
    }
    struct cr_sctp *s = lookup((uintptr_t)ulp_info);
    if (s && data)
        received(s, data, len, rcv, flags);
    free(data);
    return 1;
}

/* ---- sending ---- */

static void send_now(struct cr_sctp *s, uint16_t stream, uint32_t ppid, const uint8_t *buf,
                     size_t len)
{
    struct channel *c = channel_find(s, stream);
    struct sctp_sendv_spa spa = {.sendv_flags = SCTP_SEND_SNDINFO_VALID};
    spa.sendv_sndinfo.snd_sid = stream;
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    spa.sendv_sndinfo.snd_flags = SCTP_EOR | (c && c->unordered ? SCTP_UNORDERED : 0);
    enter();
    ssize_t n = usrsctp_sendv(s->sock, buf, len, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
    leave();
    if (n < 0)
        CR_LOG_RATE(CR_LOG_WARN, "sctp", "send on stream %u failed: %s", stream, strerror(errno));
}

/* Now, or when the callback we are inside returns. */
static void send_message(struct cr_sctp *s, uint16_t stream, uint32_t ppid, const uint8_t *buf,
                         size_t len)
{
    if (depth > 0)
        enqueue(s, stream, ppid, buf, len);
    else
        send_now(s, stream, ppid, buf, len);
}

int cr_sctp_send(struct cr_sctp *sctp, uint16_t stream, const uint8_t *buf, size_t len, bool binary)
{
    if (!sctp || !sctp->up || len > CR_SCTP_MAX_MESSAGE || !channel_find(sctp, stream))
        return -1;
    static const uint8_t zero = 0;
    uint32_t ppid = binary ? (len ? DCEP_PPID_BINARY : DCEP_PPID_BINARY_EMPTY)
                           : (len ? DCEP_PPID_STRING : DCEP_PPID_STRING_EMPTY);
    send_message(sctp, stream, ppid, len ? buf : &zero, len ? len : 1);
    sctp->st.messages_out++;
    sctp->st.bytes_out += len;
    return 0;
}

int cr_sctp_open(struct cr_sctp *sctp, const char *label, const char *protocol, uint16_t *stream)
{
    size_t ll = strlen(label), pl = protocol ? strlen(protocol) : 0;
    if (!sctp || !sctp->up || ll > CR_SCTP_LABEL_MAX || pl > CR_SCTP_LABEL_MAX)
        return -1;
    uint16_t id = sctp->dtls_client ? 0 : 1;
    while (id < CR_SCTP_MAX_STREAMS && channel_find(sctp, id))
        id += 2;
    if (id >= CR_SCTP_MAX_STREAMS)
        return -1;
    uint8_t msg[12 + 2 * CR_SCTP_LABEL_MAX];
    struct dcep_open o = {.channel_type = DCEP_CHANNEL_RELIABLE,
                          .label = label,
                          .label_len = ll,
                          .protocol = protocol ? protocol : "",
                          .protocol_len = pl};
    size_t n = dcep_write_open(msg, sizeof msg, &o);
    if (n == 0)
        return -1;
    struct channel *c = channel_add(sctp, id);
    copy_text(c->label, label, ll);
    copy_text(c->protocol, o.protocol, pl);
    send_message(sctp, id, DCEP_PPID_DCEP, msg, n);
    *stream = id;
    return 0;
}

void cr_sctp_close_channel(struct cr_sctp *sctp, uint16_t stream)
{
    if (!sctp || !channel_find(sctp, stream))
        return;
    if (sctp->up)
        reset_outgoing(sctp, stream);
    channel_remove(sctp, stream);
}

const char *cr_sctp_label(const struct cr_sctp *sctp, uint16_t stream)
{
    const struct channel *c = sctp ? channel_find(sctp, stream) : NULL;
    return c ? c->label : NULL;
}

int cr_sctp_find(const struct cr_sctp *sctp, const char *label)
{
    for (size_t i = 0; sctp && i < sctp->n_channels; i++)
        if (strcmp(sctp->channels[i].label, label) == 0)
            return sctp->channels[i].stream;
    return -1;
}

void cr_sctp_get_stats(const struct cr_sctp *sctp, struct cr_sctp_stats *out) { *out = sctp->st; }

/* ---- the association ---- */

static int set_opt(struct socket *sock, int level, int name, const void *v, socklen_t len)
{
    if (usrsctp_setsockopt(sock, level, name, v, len) == 0)
        return 0;
    CR_ERROR("sctp", "setsockopt %d: %s", name, strerror(errno));
    return -1;
}

static int configure(struct cr_sctp *s)
{
    struct linger linger = {1, 0}; /* close = ABORT: the peer is gone anyway */
    struct sctp_assoc_value reset = {SCTP_ALL_ASSOC, SCTP_ENABLE_RESET_STREAM_REQ};
    struct sctp_initmsg init = {.sinit_num_ostreams = CR_SCTP_MAX_STREAMS,
                                .sinit_max_instreams = CR_SCTP_MAX_STREAMS};
    int one = 1;
    if (usrsctp_set_non_blocking(s->sock, 1) < 0 ||
        set_opt(s->sock, SOL_SOCKET, SO_LINGER, &linger, sizeof linger) ||
        set_opt(s->sock, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset, sizeof reset) ||
        set_opt(s->sock, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof one) ||
        set_opt(s->sock, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init))
        return -1;
    static const uint16_t events[] = {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT,
                                      SCTP_SHUTDOWN_EVENT};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        struct sctp_event ev = {.se_assoc_id = SCTP_ALL_ASSOC, .se_type = events[i], .se_on = 1};
        if (set_opt(s->sock, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev))
            return -1;
    }
    return 0;
}

static struct sockaddr_conn conn_addr(const struct cr_sctp *s, uint16_t port)
{
    struct sockaddr_conn a;
    memset(&a, 0, sizeof a);
    a.sconn_family = AF_CONN;
    a.sconn_port = htons(port);
    a.sconn_addr = (void *)s->handle;
    return a;
}

struct cr_sctp *cr_sctp_new(bool dtls_client, uint16_t local_port, uint16_t remote_port,
                            const struct cr_sctp_callbacks *cb, void *user)
{
    pthread_once(&stack_once, start_stack);
    struct cr_sctp *s = CR_NEW(struct cr_sctp);
    s->dtls_client = dtls_client;
    s->local_port = local_port;
    s->remote_port = remote_port;
    s->cb = *cb;
    s->user = user;
    s->home_thread = pthread_self();
    s->home = g_main_context_ref_thread_default();
    table_add(s);
    usrsctp_register_address((void *)s->handle);
    s->sock =
        usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, receive_cb, NULL, 0, (void *)s->handle);
    struct sockaddr_conn local = conn_addr(s, local_port);
    if (!s->sock || configure(s) < 0 ||
        usrsctp_bind(s->sock, (struct sockaddr *)&local, sizeof local) < 0) {
        CR_ERROR("sctp", "cannot make an SCTP socket: %s", strerror(errno));
        destroy(s);
        return NULL;
    }
    return s;
}

int cr_sctp_start(struct cr_sctp *sctp)
{
    struct sockaddr_conn remote = conn_addr(sctp, sctp->remote_port);
    enter();
    int r = usrsctp_connect(sctp->sock, (struct sockaddr *)&remote, sizeof remote);
    leave();
    if (r < 0 && errno != EINPROGRESS) {
        CR_WARN("sctp", "connect: %s", strerror(errno));
        return -1;
    }
    struct sctp_paddrparams params;
    memset(&params, 0, sizeof params);
    memcpy(&params.spp_address, &remote, sizeof remote);
    params.spp_flags = SPP_PMTUD_DISABLE;
    params.spp_pathmtu = SCTP_MTU;
    if (usrsctp_setsockopt(sctp->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &params,
                           sizeof params) < 0)
        CR_DEBUG("sctp", "path MTU not set: %s", strerror(errno));
    return 0;
}

void cr_sctp_input(struct cr_sctp *sctp, const uint8_t *buf, size_t len)
{
    if (!sctp || sctp->dead)
        return;
    enter();
    usrsctp_conninput((void *)sctp->handle, buf, len, 0);
    leave();
}

/* Every worker ticks; one at a time runs the timers, for the time since the last run. */
void cr_sctp_tick(int64_t now_ms)
{
    if (pthread_mutex_trylock(&tick_lock) != 0)
        return; /* another worker is running them */
    if (last_tick_ms == 0 || now_ms < last_tick_ms)
        last_tick_ms = now_ms;
    uint32_t elapsed = (uint32_t)(now_ms - last_tick_ms);
    last_tick_ms = now_ms;
    if (elapsed) {
        enter();
        usrsctp_handle_timers(elapsed);
        leave();
    }
    pthread_mutex_unlock(&tick_lock);
}

static void destroy(struct cr_sctp *s)
{
    if (s->sock) {
        enter();
        usrsctp_close(s->sock); /* linger 0: an ABORT goes out through conn_output */
        leave();
    }
    table_remove(s);
    usrsctp_deregister_address((void *)s->handle);
    free(s->channels);
    free(s->partial);
    g_main_context_unref(s->home);
    free(s);
}

void cr_sctp_free(struct cr_sctp *sctp)
{
    if (!sctp)
        return;
    if (depth > 0) { /* inside a callback: closed when the outermost call returns */
        sctp->dead = true;
        sctp->next_dead = dead_list;
        dead_list = sctp;
        return;
    }
    destroy(sctp);
}
