// Chinese names for what the search API answers as codes: kinds, CLC top classes, languages;
// and the guess whether a query was typed as pinyin.

/** Result groups in the order the page shows them. `physical` is the catalogue of paper books. */
export const KIND_ORDER = ['ebook', 'audiobook', 'video', 'physical'];

export const KIND_NAMES = {
  ebook: '电子书',
  audiobook: '有声书',
  video: '视频',
  physical: '纸本图书',
};

/** 中国图书馆分类法 top classes (the API's `clc` facet is the class letter). */
export const CLC_NAMES = {
  A: '马列主义',
  B: '哲学、宗教',
  C: '社会科学总论',
  D: '政治、法律',
  E: '军事',
  F: '经济',
  G: '文化、科学、教育、体育',
  H: '语言、文字',
  I: '文学',
  J: '艺术',
  K: '历史、地理',
  N: '自然科学总论',
  O: '数理科学和化学',
  P: '天文学、地球科学',
  Q: '生物科学',
  R: '医药、卫生',
  S: '农业科学',
  T: '工业技术',
  U: '交通运输',
  V: '航空、航天',
  X: '环境科学',
  Z: '综合性图书',
};

export const LANGUAGE_NAMES = {
  zh: '中文',
  en: '英文',
  ja: '日文',
  ko: '韩文',
  fr: '法文',
  de: '德文',
  ru: '俄文',
  es: '西班牙文',
  bo: '藏文',
  ug: '维吾尔文',
  mn: '蒙古文',
};

/** The facets the page offers, in order: URL/API parameter and its heading. */
export const FACETS = [
  { param: 'kind', title: '类型' },
  { param: 'category', title: '分类' },
  { param: 'clc', title: '中图法' },
  { param: 'language', title: '语言' },
];

export function kindName(kind) {
  return KIND_NAMES[kind] || kind || '';
}

/**
 * The label of a facet value: our own name for kinds, CLC classes and languages (the API answers
 * codes there), the API's name for categories. `known` maps values to names seen in answers.
 */
export function facetLabel(param, value, known) {
  const v = String(value == null ? '' : value);
  if (param === 'kind') return kindName(v);
  if (param === 'clc') {
    const name = CLC_NAMES[v.charAt(0).toUpperCase()];
    return v.length === 1 && name ? v + ' ' + name : v;
  }
  if (param === 'language') return LANGUAGE_NAMES[v.toLowerCase()] || v;
  return (known && known[v]) || v;
}

// A pinyin syllable (no tones), loosely: an optional initial and a final. It lets some
// impossible pairs through, which is fine for a hint.
const SYLLABLE =
  '(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?' +
  '(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en|in|un|vn|er|ia|ie|iu|ua|uo|ui|ve|a|o|e|i|u|v)';
const FULL_PINYIN = new RegExp('^(?:' + SYLLABLE + ")(?:'?(?:" + SYLLABLE + '))*$');
const INITIALS = /^[bpmfdtnlgkhjqxrzcsyw]{2,8}$/;

/**
 * True when the query reads as pinyin: every word is a run of syllables (`libai`, `chang an`) or of
 * initials (`lb`). The server searches titles and authors by pinyin whatever was typed; this only
 * decides whether the page says so.
 */
export function looksLikePinyin(q) {
  const words = String(q || '')
    .toLowerCase()
    .replace(/ü/g, 'v')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (words.length === 0) return false;
  return words.every((w) => FULL_PINYIN.test(w) || INITIALS.test(w));
}
