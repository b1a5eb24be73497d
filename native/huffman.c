// Huffman-only deflate of one block (RFC 1951 dynamic block, literals only), compiled to
// WebAssembly (scripts/build-wasm.sh) for src/registry/huffmanWasm.ts. zlib's
// Z_HUFFMAN_ONLY does the same work at ~7 ns a byte here (it keeps a window and a
// symbol buffer for LZ77 that a literal-only coder does not need); this is one pass to
// count, one to code, with a 64-bit bit buffer.
//
// Freestanding: no libc; fixed buffers; every export is pure given its input.

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define IN_MAX (1u << 20)
#define OUT_MAX ((1u << 21) + 4096u) /* 15 bits a byte at worst, plus headers */
#define NLIT 257                      /* 0..255 and end-of-block */
#define NALL (NLIT + 2)               /* and two distance codes (never used: see below) */
#define MAXBITS 15
#define MAXCL 7

static u8 in_buf[IN_MAX];
static u8 out_buf[OUT_MAX];

__attribute__((export_name("in_ptr"))) u8 *in_ptr(void) { return in_buf; }
__attribute__((export_name("out_ptr"))) u8 *out_ptr(void) { return out_buf; }

/* ---- bit writer: LSB first, as deflate sends bits ---- */
static u64 acc;
static u32 nbits;
static u32 o;

static inline void put(u32 v, u32 n) {
  acc |= (u64)v << nbits;
  nbits += n;
  if (nbits >= 32) {
    *(u32 *)(out_buf + o) = (u32)acc; /* little-endian, unaligned stores are fine in wasm */
    o += 4;
    acc >>= 32;
    nbits -= 32;
  }
}

static void align(void) {
  while (nbits > 0) {
    out_buf[o++] = (u8)acc;
    acc >>= 8;
    nbits = nbits > 8 ? nbits - 8 : 0;
  }
}

/* ---- code lengths ---- */

/*
 * lengths gives each of n symbols with a non-zero freq a length of at most limit: an
 * optimal Huffman code (O(n^2) merging: n <= 286), then, if it is too deep, the JPEG
 * (ITU T.81 K.3) adjustment of the length counts, and the counts handed out again
 * shortest first to the most frequent symbols (ties by symbol). The result is always a
 * complete code for two or more symbols; one symbol gets length 1.
 */
static void lengths(const u32 *freq, u32 n, u32 limit, u8 *len) {
  static u32 weight[2 * NALL];
  static int parent[2 * NALL];
  static u8 alive[2 * NALL];
  static u32 count[64];
  static u16 order[NALL];
  u32 nodes = 0, used = 0, i, j;
  for (i = 0; i < n; i++) len[i] = 0;
  for (i = 0; i < n; i++) {
    weight[i] = freq[i];
    parent[i] = -1;
    alive[i] = freq[i] != 0;
    if (freq[i]) used++;
  }
  nodes = n;
  if (used == 0) return;
  if (used == 1) {
    for (i = 0; i < n; i++) if (freq[i]) len[i] = 1;
    return;
  }
  for (u32 k = 0; k + 1 < used; k++) {
    int a = -1, b = -1;
    for (i = 0; i < nodes; i++) {
      if (!alive[i]) continue;
      if (a < 0 || weight[i] < weight[a]) { b = a; a = (int)i; }
      else if (b < 0 || weight[i] < weight[b]) b = (int)i;
    }
    weight[nodes] = weight[a] + weight[b];
    parent[nodes] = -1;
    alive[nodes] = 1;
    alive[a] = alive[b] = 0;
    parent[a] = parent[b] = (int)nodes;
    nodes++;
  }
  for (i = 0; i < 64; i++) count[i] = 0;
  u32 maxlen = 0;
  for (i = 0; i < n; i++) {
    if (!freq[i]) continue;
    u32 d = 0;
    for (int p = parent[i]; p >= 0; p = parent[p]) d++;
    count[d]++;
    if (d > maxlen) maxlen = d;
  }
  for (i = maxlen; i > limit; i--) {
    while (count[i] > 0) {
      j = i - 2;
      while (count[j] == 0) j--;
      count[i] -= 2;
      count[i - 1] += 1;
      count[j + 1] += 2;
      count[j] -= 1;
    }
  }
  /* symbols by frequency, most frequent first; ties by symbol (insertion sort: n is small) */
  u32 m = 0;
  for (i = 0; i < n; i++) {
    if (!freq[i]) continue;
    u32 k = m++;
    while (k > 0 && freq[order[k - 1]] < freq[i]) { order[k] = order[k - 1]; k--; }
    order[k] = (u16)i;
  }
  u32 s = 0;
  for (u32 l = 1; l <= limit; l++)
    for (u32 c = 0; c < count[l]; c++) len[order[s++]] = (u8)l;
}

/* codes gives canonical codes for the lengths, bit-reversed for the LSB-first stream. */
static void codes(const u8 *len, u32 n, u16 *code) {
  u32 bl[MAXBITS + 1] = {0}, next[MAXBITS + 2] = {0}, i;
  for (i = 0; i < n; i++) bl[len[i]]++;
  bl[0] = 0;
  u32 c = 0;
  for (i = 1; i <= MAXBITS; i++) { c = (c + bl[i - 1]) << 1; next[i] = c; }
  for (i = 0; i < n; i++) {
    u32 l = len[i];
    if (!l) continue;
    u32 v = next[l]++, r = 0;
    for (u32 b = 0; b < l; b++) { r = (r << 1) | (v & 1); v >>= 1; }
    code[i] = (u16)r;
  }
}

static const u8 CL_ORDER[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

/*
 * huff deflates in_buf[0..n) as one dynamic-Huffman block of literals and returns the
 * output length in out_buf. A last block has BFINAL set and ends byte-aligned; any
 * other ends with an empty stored block (00 00 ff ff), as zlib's Z_SYNC_FLUSH does, so
 * blocks concatenate.
 */
__attribute__((export_name("huff"))) u32 huff(u32 n, u32 last) {
  static u32 freq[NALL];
  static u8 len[NALL];
  static u16 code[NALL];
  static u32 clfreq[19];
  static u8 cllen[19];
  static u16 clcode[19];
  static u8 rle[NALL];   /* code-length symbols */
  static u8 extra[NALL]; /* their extra bits' values */
  u32 i;
  acc = 0; nbits = 0; o = 0;
  for (i = 0; i < NALL; i++) freq[i] = 0;
  for (i = 0; i < n; i++) freq[in_buf[i]]++;
  freq[256] = 1;
  lengths(freq, NLIT, MAXBITS, len);
  /* Two distance codes of one bit each, as zlib writes for literal-only blocks: some
     inflaters refuse an empty distance code. */
  len[NLIT] = 1;
  len[NLIT + 1] = 1;
  codes(len, NLIT, code);

  /* run-length code the NALL lengths with 16 (repeat previous 3-6), 17 (3-10 zeros), 18 (11-138 zeros) */
  u32 nr = 0;
  for (i = 0; i < 19; i++) clfreq[i] = 0;
  for (i = 0; i < NALL;) {
    u32 l = len[i], run = 1;
    while (i + run < NALL && len[i + run] == l) run++;
    i += run;
    if (l == 0) {
      while (run >= 11) { u32 r = run > 138 ? 138 : run; rle[nr] = 18; extra[nr++] = (u8)(r - 11); clfreq[18]++; run -= r; }
      if (run >= 3) { rle[nr] = 17; extra[nr++] = (u8)(run - 3); clfreq[17]++; run = 0; }
      while (run > 0) { rle[nr] = 0; extra[nr++] = 0; clfreq[0]++; run--; }
    } else {
      rle[nr] = (u8)l; extra[nr++] = 0; clfreq[l]++; run--;
      while (run >= 3) { u32 r = run > 6 ? 6 : run; rle[nr] = 16; extra[nr++] = (u8)(r - 3); clfreq[16]++; run -= r; }
      while (run > 0) { rle[nr] = (u8)l; extra[nr++] = 0; clfreq[l]++; run--; }
    }
  }
  /* zlib refuses an incomplete code-length code: keep at least two symbols in it */
  u32 clused = 0;
  for (i = 0; i < 19; i++) if (clfreq[i]) clused++;
  if (clused < 2) { if (!clfreq[0]) clfreq[0] = 1; else clfreq[1] = 1; }
  lengths(clfreq, 19, MAXCL, cllen);
  codes(cllen, 19, clcode);
  u32 hclen = 19;
  while (hclen > 4 && cllen[CL_ORDER[hclen - 1]] == 0) hclen--;

  put(last ? 1 : 0, 1);
  put(2, 2);            /* dynamic Huffman */
  put(NLIT - 257, 5);   /* HLIT */
  put(2 - 1, 5);        /* HDIST */
  put(hclen - 4, 4);    /* HCLEN */
  for (i = 0; i < hclen; i++) put(cllen[CL_ORDER[i]], 3);
  for (i = 0; i < nr; i++) {
    u32 s = rle[i];
    put(clcode[s], cllen[s]);
    if (s == 16) put(extra[i], 2);
    else if (s == 17) put(extra[i], 3);
    else if (s == 18) put(extra[i], 7);
  }

  /* the literals, two at a time (two codes of at most 15 bits fit one put): the hot loop */
  static u32 pcode[65536];
  static u8 plen[65536];
  for (u32 a = 0; a < 256; a++) {
    if (!len[a]) continue;
    for (u32 b = 0; b < 256; b++) {
      u32 k = a | (b << 8);
      pcode[k] = (u32)code[a] | ((u32)code[b] << len[a]);
      plen[k] = (u8)(len[a] + len[b]);
    }
  }
  for (i = 0; i + 1 < n; i += 2) {
    u32 k = (u32)in_buf[i] | ((u32)in_buf[i + 1] << 8);
    put(pcode[k], plen[k]);
  }
  if (i < n) put(code[in_buf[i]], len[in_buf[i]]);
  put(code[256], len[256]);
  if (last) {
    align();
  } else {
    put(0, 3); /* an empty stored block: BFINAL 0, BTYPE 00 */
    align();
    out_buf[o++] = 0; out_buf[o++] = 0; out_buf[o++] = 0xff; out_buf[o++] = 0xff;
  }
  return o;
}
