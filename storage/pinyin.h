#ifndef SHUXIANG_PINYIN_H
#define SHUXIANG_PINYIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Pinyin for search: readers type `libai`, `li bai` or `lb` for 李白, `chang an` or `zhang an`
 * for 长安. The readings come from a table generated at build time from Unihan (package
 * unicode-data; see gen_pinyin.c): ~41 k code points, simplified and traditional, ~7 k of them
 * with several readings, most common first (kMandarin first).
 *
 * Syllables are lower-case ASCII without tones. ü is written "v" (绿 → "lv", 女 → "nv", 略 →
 * "lve"), as pinyin input methods do; at query time pinyin_split() also accepts "u" for it
 * ("lue" → "lve"; "lu" → "lu" or "lv").
 *
 * The indexer stores, per title/author/series, the forms of pinyin_expand() in two FTS columns:
 * FULL ("li bai", syllables separated by spaces, so "li bai" is a phrase and "li" a token) and
 * INITIALS ("lb", one token per form). The query side takes a query for which pinyin_is_query()
 * holds, and matches it against INITIALS as a prefix ("lb", "hlm") and, for each segmentation
 * from pinyin_split() ("libai" → "li bai"), against FULL as a phrase.
 *
 * Everything here is pure and thread-safe: the table is constant, no state is kept.
 */

/* Most readings one code point has in the table (the most in Unicode 15 is 8). */
#define PINYIN_MAX_READINGS 15
/* Largest cap accepted by pinyin_expand() and pinyin_split(). */
#define PINYIN_MAX_FORMS 64
/* pinyin_expand() uses the first this many syllables of a string and ignores the rest. */
#define PINYIN_EXPAND_MAX_SYLLABLES 256
/* Longest query (bytes) that pinyin_is_query() and pinyin_split() accept. */
#define PINYIN_QUERY_MAX 128

/*
 * The toneless readings of code point cp, most common first, into out[0..max): pointers to
 * constant strings (borrowed, valid for the program's life). Returns how many were stored; 0 when
 * cp has no reading (not an ideograph, or one Unihan gives no Mandarin for) or max <= 0.
 * 长 → "zhang", "chang" (kMandarin says zhǎng); 行 → "xing", "hang", "heng".
 */
int pinyin_readings(uint32_t cp, const char **out, int max);

/*
 * The ways of reading a string: form i is full[i] and initials[i]. Caller-owned; empty is all
 * zero; free with pinyin_forms_release().
 *   full[i]      the syllables joined by one space: "li bai", "hong lou meng cao xue qin",
 *                "harry potter 3". full[0] is the all-most-common reading.
 *   initials[i]  the first letter of each syllable, no spaces: "lb", "hlmcxq", "hp3". zh, ch and
 *                sh give z, c and s (张三 → "zs", never "zhs").
 */
struct pinyin_forms {
	char **full;     /* n strings, owned, as is the array */
	char **initials; /* n strings, owned, as is the array */
	int n;
};

/*
 * Every combination of readings of the string utf8[0..len) (a title, an author, a series), up to
 * cap of them, into out (which need not be initialised; on return it holds the forms, or is empty
 * after an error).
 *
 * Han characters give their readings; runs of ASCII letters and digits (and fullwidth ones, and
 * Latin-1/Latin Extended letters, kept as they are) give one "syllable" each, ASCII lower-cased;
 * everything else (spaces, punctuation, characters without a reading, malformed UTF-8) only
 * separates. 《红楼梦》曹雪芹 → "hong lou meng cao xue qin" / "hlmcxq".
 *
 * Order: combinations by increasing total rank of the readings chosen (0 = most common), so form
 * 0 reads every character its most common way, the next ones differ in one character (the earlier
 * characters first), and so on; when there are more than cap, the rarest are dropped. 长安 →
 * ("zhang an", "za"), ("chang an", "ca"). Two forms never share full, but initials may repeat
 * (行 → xing/hang/heng → "x", "h", "h"): the indexer may drop repeated initials. Only the first
 * PINYIN_EXPAND_MAX_SYLLABLES syllables are used.
 *
 * Returns the number of forms (0 when the string has nothing to read), -EINVAL when cap is not in
 * 1..PINYIN_MAX_FORMS or utf8 is NULL with len > 0, -ENOMEM.
 */
int pinyin_expand(const char *utf8, size_t len, int cap, struct pinyin_forms *out);

/* Free the forms and leave f empty. Accepts NULL and an empty f. */
void pinyin_forms_release(struct pinyin_forms *f);

/*
 * True when q looks like pinyin input: 1..PINYIN_QUERY_MAX bytes of ASCII letters, spaces and
 * apostrophes, at least one letter ("libai", "li bai", "LB", "xi'an"). False for Han characters
 * ("李白"), for digits ("abc123": pinyin has none, and tone numbers like "li3" are not supported),
 * and for anything else. It says nothing of whether q segments into syllables: "lb" is initials.
 */
bool pinyin_is_query(const char *q);

/* Segmentations of a query. Caller-owned; empty is all zero; free with pinyin_splits_release(). */
struct pinyin_splits {
	char **v; /* n strings, owned: lower-case syllables joined by one space ("li bai") */
	int n;
};

/*
 * The ways of cutting the pinyin query q into valid syllables (those of the table that have a
 * vowel: m, n, ng, hm, hng are left out, as they would only add noise such as "xia n"), up to cap
 * of them, into out (which need not be initialised).
 * Spaces and apostrophes are forced boundaries ("xi'an" → "xi an" only); case is ignored. Order:
 * longest syllable first at each position, so v[0] is the greedy reading ("xian" → "xian", then
 * "xi an"; "zhangan" → "zhang an", "zhan gan"). "u" after l or n is also tried as ü ("lue" →
 * "lve"; "lu" → "lu", "lv"). A query with a part that cannot be cut ("qqq", initials such as
 * "lb", a syllable typed halfway) has none.
 *
 * Returns the number of segmentations, 0 when there is none or pinyin_is_query(q) is false,
 * -EINVAL when q is NULL or cap is not in 1..PINYIN_MAX_FORMS, -ENOMEM.
 */
int pinyin_split(const char *q, int cap, struct pinyin_splits *out);

/* Free the segmentations and leave s empty. Accepts NULL and an empty s. */
void pinyin_splits_release(struct pinyin_splits *s);

#endif
