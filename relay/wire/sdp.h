/* SDP parsing (RFC 8866) with the WebRTC attributes a relay needs: RFC 8829 (JSEP),
 * RFC 8843 (BUNDLE), RFC 8839 (ICE), RFC 8122 (fingerprint), RFC 4145 (setup), RFC 8285
 * (extmap), RFC 8851/8853 (rid, simulcast), RFC 5576 (ssrc, ssrc-group), RFC 4588 (rtx),
 * RFC 8841 (sctp-port, max-message-size of data channels).
 *
 * The parser fills fixed-size arrays with slices of the input text: it allocates nothing,
 * and an offer with more lines than fit is refused (SDP_ERR_LIMIT) rather than truncated.
 * sdp_session is large (tens of KiB): allocate it, do not put it on a small stack. */
#ifndef CR_WIRE_SDP_H
#define CR_WIRE_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_MEDIA 40 /* a teacher receives a page of 16 tiles, the stage and a listen */
#define SDP_MAX_CODECS 40
#define SDP_MAX_EXTS 20
#define SDP_MAX_SSRCS 8
#define SDP_MAX_RIDS 4
#define SDP_MAX_CANDIDATES 24
#define SDP_MAX_BUNDLE SDP_MAX_MEDIA

enum sdp_err { SDP_OK = 0, SDP_ERR_SYNTAX = -1, SDP_ERR_LIMIT = -2, SDP_ERR_MISSING = -3 };

struct sdp_str {
    const char *p; /* borrows the input; not NUL-terminated */
    size_t len;
};
bool sdp_str_eq(struct sdp_str s, const char *lit);  /* exact */
bool sdp_str_ieq(struct sdp_str s, const char *lit); /* ASCII case-insensitive */
/* Copies into dst (NUL-terminated, truncated to cap-1); returns dst. */
char *sdp_str_copy(struct sdp_str s, char *dst, size_t cap);

enum sdp_dir { SDP_SENDRECV = 0, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };
const char *sdp_dir_name(enum sdp_dir d);
/* The direction seen from the other side (sendonly ↔ recvonly). */
enum sdp_dir sdp_dir_reverse(enum sdp_dir d);

enum sdp_fb { /* bit flags of a=rtcp-fb values for one payload type (or "*") */
              SDP_FB_NACK = 1 << 0,         /* "nack" */
              SDP_FB_NACK_PLI = 1 << 1,     /* "nack pli" */
              SDP_FB_CCM_FIR = 1 << 2,      /* "ccm fir" */
              SDP_FB_GOOG_REMB = 1 << 3,    /* "goog-remb" */
              SDP_FB_TRANSPORT_CC = 1 << 4, /* "transport-cc" */
};

struct sdp_codec {
    uint8_t pt;
    struct sdp_str name; /* "opus", "VP8", "H264", "rtx", "red", "ulpfec" */
    uint32_t clock_rate;
    uint8_t channels;    /* 0 when not given */
    struct sdp_str fmtp; /* the parameter text after "a=fmtp:PT " */
    uint32_t fb;         /* enum sdp_fb flags, "*" lines folded in */
    int apt;             /* rtx: associated payload type from fmtp apt=, else -1 */
};

struct sdp_ext {
    uint8_t id;
    struct sdp_str uri;
    enum sdp_dir dir; /* SDP_SENDRECV when not given */
};

struct sdp_ssrc {
    uint32_t ssrc;
    struct sdp_str cname; /* a=ssrc:N cname:X */
    struct sdp_str msid;  /* a=ssrc:N msid:X Y (the whole value) */
};

struct sdp_rid {
    struct sdp_str id;
    bool send; /* "send" (true) or "recv" (false) */
};

struct sdp_media {
    struct sdp_str type;  /* "audio", "video", "application" */
    uint16_t port;        /* 0: rejected / bundle-only */
    struct sdp_str proto; /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", ... */
    struct sdp_str fmts;  /* the format list after the proto, as text */
    struct sdp_str mid;
    enum sdp_dir dir;
    bool rtcp_mux, rtcp_rsize, bundle_only;
    bool xr_rrtr; /* a=rtcp-xr:rcvr-rtt=... (RFC 3611 §5.1): the receiver sends RRTR */
    struct sdp_str ice_ufrag, ice_pwd;           /* media level, or copied from session level */
    struct sdp_str fingerprint_alg, fingerprint; /* e.g. "sha-256", "AB:CD:..." */
    struct sdp_str setup;                        /* "actpass", "active", "passive" */
    struct sdp_str msid;                         /* a=msid value */
    struct sdp_str simulcast;                    /* a=simulcast value, raw */
    uint16_t sctp_port;        /* a=sctp-port (RFC 8841) or a=sctpmap; 0: absent */
    bool sctpmap;              /* the pre-RFC 8841 form: a=sctpmap, "DTLS/SCTP" */
    uint32_t max_message_size; /* a=max-message-size; 0: no limit */
    bool has_max_message_size;
    struct sdp_codec codecs[SDP_MAX_CODECS];
    size_t n_codecs;
    struct sdp_ext exts[SDP_MAX_EXTS];
    size_t n_exts;
    struct sdp_ssrc ssrcs[SDP_MAX_SSRCS];
    size_t n_ssrcs;
    uint32_t fid_ssrcs[2];            /* a=ssrc-group:FID media rtx; 0 when absent */
    uint32_t sim_ssrcs[SDP_MAX_RIDS]; /* a=ssrc-group:SIM, one per layer in a=simulcast order */
    size_t n_sim_ssrcs;
    struct sdp_rid rids[SDP_MAX_RIDS];
    size_t n_rids;
    struct sdp_str candidates[SDP_MAX_CANDIDATES]; /* "candidate:..." without "a=" */
    size_t n_candidates;
    bool end_of_candidates;
};

struct sdp_session {
    uint64_t origin_sess_id, origin_sess_version;
    struct sdp_str bundle_mids[SDP_MAX_BUNDLE]; /* a=group:BUNDLE */
    size_t n_bundle;
    bool ice_lite, ice_trickle;
    struct sdp_media media[SDP_MAX_MEDIA];
    size_t n_media;
};

/* Parses SDP text (CRLF or LF line ends). Session-level ice-ufrag/ice-pwd/fingerprint/setup
 * are copied into each media section that lacks its own. Returns SDP_OK or an sdp_err;
 * on error *err_line (if non-NULL) gets the 1-based line number. */
int sdp_parse(const char *text, size_t len, struct sdp_session *out, int *err_line);

/* Looks up a codec by payload type in a media section; NULL if absent. */
const struct sdp_codec *sdp_codec_by_pt(const struct sdp_media *m, uint8_t pt);
/* Returns the extension id negotiated for uri in m, or 0 if absent. */
uint8_t sdp_ext_id(const struct sdp_media *m, const char *uri);
/* Returns the value of key in an fmtp string ("profile-level-id=42e01f;packetization-mode=1"),
 * or an empty slice. */
struct sdp_str sdp_fmtp_get(struct sdp_str fmtp, const char *key);

#endif
