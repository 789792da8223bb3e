#include "pinyin.h"
#include "utf8_decode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * The generated table (pinyin_table.c in the build directory, written by gen_pinyin.c, which
 * repeats these declarations): code points sorted, each with offset << 4 | count into
 * pinyin_tab_syl, whose entries index the syllable pool (sorted, NUL-separated).
 */
extern const int pinyin_tab_n, pinyin_syl_n;
extern const uint32_t pinyin_tab_cp[], pinyin_tab_ref[];
extern const uint16_t pinyin_tab_syl[], pinyin_syl_off[];
extern const char pinyin_syl_pool[];

/* The longest syllable ("zhuang", "shuang"); gen_pinyin refuses longer ones. */
#define SYL_MAX 6

static const char *syl_name(unsigned id)
{
	return pinyin_syl_pool + pinyin_syl_off[id];
}

static int find_cp(uint32_t cp)
{
	int lo = 0, hi = pinyin_tab_n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pinyin_tab_cp[mid] < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pinyin_tab_n && pinyin_tab_cp[lo] == cp ? lo : -1;
}

/* The readings of cp as syllable indices; their count, 0 when none. */
static int cp_syllables(uint32_t cp, const uint16_t **ids)
{
	int i = find_cp(cp);

	if (i < 0)
		return 0;
	*ids = pinyin_tab_syl + (pinyin_tab_ref[i] >> 4);
	return (int)(pinyin_tab_ref[i] & 15);
}

int pinyin_readings(uint32_t cp, const char **out, int max)
{
	const uint16_t *ids;
	int n = cp_syllables(cp, &ids), k;

	if (!out || max <= 0)
		return 0;
	for (k = 0; k < n && k < max; k++)
		out[k] = syl_name(ids[k]);
	return k;
}

/* Index of the syllable s[0..n) in the pool, -1 when it is not one. */
static int find_syl(const char *s, size_t n)
{
	int lo = 0, hi = pinyin_syl_n, mid, c;
	const char *p;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		p = syl_name((unsigned)mid);
		c = strncmp(s, p, n);
		if (c == 0 && p[n] != '\0')
			c = -1; /* s is a proper prefix of p */
		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* One UTF-8 sequence at s[0..n): its length (>= 1); *cp is UINT32_MAX when malformed (overlong,
 * surrogate, out of range, truncated), and then one byte is consumed. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	int32_t c;
	int len = utf8_decode(s, n, &c);

	*cp = c < 0 ? UINT32_MAX : (uint32_t)c;
	return (size_t)len;
}

/* ---- pinyin_expand ---- */

/* A syllable position: a Han character (its readings) or a Latin word (one "reading"). */
struct unit {
	const uint16_t *ids; /* NULL for a Latin word */
	int k;               /* number of readings */
	size_t off, len;     /* Latin word: its bytes in expand.latin */
	size_t ilen;         /* Latin word: bytes of its first character (the initial) */
};

struct expand {
	struct unit *u;
	int nu;
	char *latin; /* the Latin words, folded */
	size_t nlatin;
	int *poly; /* indices of the units with several readings */
	int npoly;
	int *suffix; /* suffix[p] = sum of (k - 1) over poly[p..] */
	int *choice; /* the reading chosen per unit */
	int cap;
	struct pinyin_forms *out;
};

/* A code point that belongs in a Latin word, as the bytes to store (ASCII folded to lower case,
 * fullwidth forms to ASCII, Latin-1 and Latin Extended letters kept); 0 when it is no such. */
static size_t latin_bytes(uint32_t c, const unsigned char *src, size_t srclen, char out[2])
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
		out[0] = (char)c;
		return 1;
	}
	if (c >= 'A' && c <= 'Z') {
		out[0] = (char)(c - 'A' + 'a');
		return 1;
	}
	if ((c >= 0xFF21 && c <= 0xFF3A) || (c >= 0xFF41 && c <= 0xFF5A)) {
		out[0] = (char)((c - 0xFF21) % 0x20 + 'a');
		return 1;
	}
	if (c >= 0xFF10 && c <= 0xFF19) {
		out[0] = (char)(c - 0xFF10 + '0');
		return 1;
	}
	if (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7 && srclen == 2) {
		memcpy(out, src, 2);
		return 2;
	}
	return 0;
}

/* Cut utf8 into units. */
static void expand_scan(struct expand *e, const unsigned char *s, size_t len)
{
	size_t i = 0, k, nb;
	bool in_word = false;
	const uint16_t *ids;
	struct unit *w = NULL;
	uint32_t c;
	char b[2];
	int n;

	while (i < len) {
		k = utf8_next(s + i, len - i, &c);
		nb = c == UINT32_MAX ? 0 : latin_bytes(c, s + i, k, b);
		i += k;
		if (nb) {
			if (!in_word) {
				if (e->nu == PINYIN_EXPAND_MAX_SYLLABLES)
					return;
				w = &e->u[e->nu++];
				w->ids = NULL;
				w->k = 1;
				w->off = e->nlatin;
				w->len = 0;
				w->ilen = nb;
				in_word = true;
			}
			memcpy(e->latin + e->nlatin, b, nb);
			e->nlatin += nb;
			w->len += nb;
			continue;
		}
		in_word = false;
		n = c == UINT32_MAX ? 0 : cp_syllables(c, &ids);
		if (n > 0) {
			if (e->nu == PINYIN_EXPAND_MAX_SYLLABLES)
				return;
			e->u[e->nu].ids = ids;
			e->u[e->nu].k = n;
			e->nu++;
		}
	}
}

static const char *unit_text(const struct expand *e, int i, size_t *len)
{
	const struct unit *u = &e->u[i];
	const char *s;

	if (!u->ids) {
		*len = u->len;
		return e->latin + u->off;
	}
	s = syl_name(u->ids[e->choice[i]]);
	*len = strlen(s);
	return s;
}

/* Append the form for the current choices. */
static int expand_emit(struct expand *e)
{
	struct pinyin_forms *o = e->out;
	char *full, *initials;
	size_t flen = 0, ilen = 0, n, fp = 0, ip = 0;
	const char *t;
	int i;

	for (i = 0; i < e->nu; i++) {
		unit_text(e, i, &n);
		flen += n + 1;
		ilen += e->u[i].ids ? 1 : e->u[i].ilen;
	}
	full = malloc(flen);
	initials = malloc(ilen + 1);
	if (!full || !initials) {
		free(full);
		free(initials);
		return -ENOMEM;
	}
	for (i = 0; i < e->nu; i++) {
		t = unit_text(e, i, &n);
		if (i)
			full[fp++] = ' ';
		memcpy(full + fp, t, n);
		fp += n;
		n = e->u[i].ids ? 1 : e->u[i].ilen;
		memcpy(initials + ip, t, n);
		ip += n;
	}
	full[fp] = '\0';
	initials[ip] = '\0';
	o->full[o->n] = full;
	o->initials[o->n] = initials;
	o->n++;
	return 0;
}

/*
 * Emit every choice vector of the polyphones poly[p..] whose ranks sum to rem. Values go from
 * high to low, so that within one total the earlier characters deviate first; the bounds keep
 * every branch taken able to reach rem exactly, so the work is proportional to what is emitted.
 */
static int expand_level(struct expand *e, int p, int rem)
{
	int i, x, lo, hi, rc;

	if (p == e->npoly)
		return rem == 0 ? expand_emit(e) : 0;
	i = e->poly[p];
	hi = e->u[i].k - 1 < rem ? e->u[i].k - 1 : rem;
	lo = rem - e->suffix[p + 1] > 0 ? rem - e->suffix[p + 1] : 0;
	for (x = hi; x >= lo && e->out->n < e->cap; x--) {
		e->choice[i] = x;
		rc = expand_level(e, p + 1, rem - x);
		if (rc)
			return rc;
	}
	e->choice[i] = 0;
	return 0;
}

int pinyin_expand(const char *utf8, size_t len, int cap, struct pinyin_forms *out)
{
	struct expand e = {0};
	size_t maxu;
	int i, d, rc;

	if (!out)
		return -EINVAL;
	out->full = out->initials = NULL;
	out->n = 0;
	if ((!utf8 && len) || cap < 1 || cap > PINYIN_MAX_FORMS)
		return -EINVAL;
	if (!len)
		return 0;
	maxu = len < PINYIN_EXPAND_MAX_SYLLABLES ? len : PINYIN_EXPAND_MAX_SYLLABLES;
	e.u = calloc(maxu, sizeof(*e.u));
	e.latin = malloc(len);
	e.poly = calloc(maxu, sizeof(*e.poly));
	e.suffix = calloc(maxu + 1, sizeof(*e.suffix));
	e.choice = calloc(maxu, sizeof(*e.choice));
	if (!e.u || !e.latin || !e.poly || !e.suffix || !e.choice) {
		rc = -ENOMEM;
		goto out;
	}
	expand_scan(&e, (const unsigned char *)utf8, len);
	if (!e.nu) {
		rc = 0;
		goto out;
	}
	for (i = 0; i < e.nu; i++)
		if (e.u[i].k > 1)
			e.poly[e.npoly++] = i;
	for (i = e.npoly - 1; i >= 0; i--)
		e.suffix[i] = e.suffix[i + 1] + e.u[e.poly[i]].k - 1;
	out->full = calloc((size_t)cap, sizeof(*out->full));
	out->initials = calloc((size_t)cap, sizeof(*out->initials));
	if (!out->full || !out->initials) {
		rc = -ENOMEM;
		goto out;
	}
	e.cap = cap;
	e.out = out;
	rc = 0;
	for (d = 0; d <= e.suffix[0] && out->n < cap && !rc; d++)
		rc = expand_level(&e, 0, d);
	if (!rc)
		rc = out->n;
out:
	if (rc < 0)
		pinyin_forms_release(out);
	free(e.u);
	free(e.latin);
	free(e.poly);
	free(e.suffix);
	free(e.choice);
	return rc;
}

void pinyin_forms_release(struct pinyin_forms *f)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->full[i]);
		free(f->initials[i]);
	}
	free(f->full);
	free(f->initials);
	f->full = f->initials = NULL;
	f->n = 0;
}

/* ---- queries ---- */

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_sep(char c)
{
	return c == ' ' || c == '\'';
}

bool pinyin_is_query(const char *q)
{
	bool letter = false;
	size_t i;

	if (!q)
		return false;
	for (i = 0; q[i]; i++) {
		if (i == PINYIN_QUERY_MAX)
			return false;
		if (is_letter(q[i]))
			letter = true;
		else if (!is_sep(q[i]))
			return false;
	}
	return letter;
}

struct split {
	char s[PINYIN_QUERY_MAX + 1]; /* q lower-cased */
	size_t len;
	bool reach[PINYIN_QUERY_MAX + 1]; /* reach[i]: s[i..] cuts into syllables */
	int stack[PINYIN_QUERY_MAX];      /* syllable ids of the cut being built */
	int depth;
	int cap;
	struct pinyin_splits *out;
};

/* The syllables s[0..n) may stand for, into ids[0..2): itself when it is a syllable with a vowel,
 * and its ü reading when it is l/n + u... ("lue" → "lve"). Returns how many. */
static int candidates(const char *s, size_t n, int ids[2])
{
	char alt[SYL_MAX];
	int k = 0, id;

	if (!memchr(s, 'a', n) && !memchr(s, 'e', n) && !memchr(s, 'i', n) && !memchr(s, 'o', n) &&
	    !memchr(s, 'u', n) && !memchr(s, 'v', n))
		return 0;
	id = find_syl(s, n);
	if (id >= 0)
		ids[k++] = id;
	if (n >= 2 && (s[0] == 'l' || s[0] == 'n') && s[1] == 'u') {
		memcpy(alt, s, n);
		alt[1] = 'v';
		id = find_syl(alt, n);
		if (id >= 0)
			ids[k++] = id;
	}
	return k;
}

/* Length of the run of letters at s[i..] capped at SYL_MAX. */
static size_t run_max(const struct split *sp, size_t i)
{
	size_t n = 0;

	while (i + n < sp->len && n < SYL_MAX && !is_sep(sp->s[i + n]))
		n++;
	return n;
}

static int split_emit(struct split *sp)
{
	size_t n = 0, p = 0, l;
	const char *t;
	char *str;
	int i;

	for (i = 0; i < sp->depth; i++)
		n += strlen(syl_name((unsigned)sp->stack[i])) + 1;
	str = malloc(n);
	if (!str)
		return -ENOMEM;
	for (i = 0; i < sp->depth; i++) {
		t = syl_name((unsigned)sp->stack[i]);
		l = strlen(t);
		if (i)
			str[p++] = ' ';
		memcpy(str + p, t, l);
		p += l;
	}
	str[p] = '\0';
	sp->out->v[sp->out->n++] = str;
	return 0;
}

/* Every cut of s[i..], longest syllable first; only positions that reach the end are entered, so
 * each branch ends in a result and the work is bounded by cap. */
static int split_dfs(struct split *sp, size_t i)
{
	int ids[2], k, c, rc;
	size_t l;

	while (i < sp->len && is_sep(sp->s[i]))
		i++;
	if (i == sp->len)
		return split_emit(sp);
	for (l = run_max(sp, i); l >= 1 && sp->out->n < sp->cap; l--) {
		if (!sp->reach[i + l])
			continue;
		k = candidates(sp->s + i, l, ids);
		for (c = 0; c < k && sp->out->n < sp->cap; c++) {
			sp->stack[sp->depth++] = ids[c];
			rc = split_dfs(sp, i + l);
			sp->depth--;
			if (rc)
				return rc;
		}
	}
	return 0;
}

int pinyin_split(const char *q, int cap, struct pinyin_splits *out)
{
	struct split *sp = NULL;
	int ids[2], rc;
	size_t i, l;

	if (!out)
		return -EINVAL;
	out->v = NULL;
	out->n = 0;
	if (!q || cap < 1 || cap > PINYIN_MAX_FORMS)
		return -EINVAL;
	if (!pinyin_is_query(q))
		return 0;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	for (i = 0; q[i]; i++)
		sp->s[i] = q[i] >= 'A' && q[i] <= 'Z' ? (char)(q[i] - 'A' + 'a') : q[i];
	sp->len = i;
	sp->reach[sp->len] = true;
	for (i = sp->len; i-- > 0;) {
		if (is_sep(sp->s[i])) {
			sp->reach[i] = sp->reach[i + 1];
			continue;
		}
		for (l = run_max(sp, i); l >= 1 && !sp->reach[i]; l--)
			sp->reach[i] = sp->reach[i + l] && candidates(sp->s + i, l, ids) > 0;
	}
	if (!sp->reach[0]) {
		rc = 0;
		goto out;
	}
	out->v = calloc((size_t)cap, sizeof(*out->v));
	if (!out->v) {
		rc = -ENOMEM;
		goto out;
	}
	sp->cap = cap;
	sp->out = out;
	rc = split_dfs(sp, 0);
	if (!rc)
		rc = out->n;
out:
	if (rc < 0)
		pinyin_splits_release(out);
	free(sp);
	return rc;
}

void pinyin_splits_release(struct pinyin_splits *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
