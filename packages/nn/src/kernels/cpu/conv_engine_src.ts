/**
 * The conv engine's task runner, as JavaScript source text. The same text is
 * compiled on the calling thread (`new Function`) and in the helper worker
 * (eval), so both threads run identical packing/GEMM/col2im code over the
 * shared wasm memory and produce bit-identical results whichever thread
 * computes a region.
 *
 * A task is an Int32Array descriptor (field indices in {@link D}); offsets
 * are float32 element indices into the shared memory.
 *
 * GEMM task: C[m, n] (+)= Σ_k A[m, k]·B[k, n] for m in [M0, M1), n in [N0, N1),
 * k < K, into the padded C buffer at COFF (row stride LDC, a multiple of 8;
 * M0 a multiple of MR and N0 of NR, so regions never share a tile).
 *   A types: 0 dense A[m,k] = F[AOFF + m·LDA + k]; 1 transposed F[AOFF + k·LDA + m];
 *            2 flipped weight (backward-input as a forward conv):
 *              A[c, (oc, t)] = F[AOFF + oc·ACKK + c·AKK + AKK−1−t].
 *   B types: 0 dense B[k,n] = F[BOFF + k·LDB + n]; 1 transposed F[BOFF + n·LDB + k];
 *            2 implicit im2col of the image at BOFF (k = (c, kh, kw), n = (oh, ow));
 *            3 its transpose (k = (oh, ow), n = (c, kh, kw)).
 * col2im task: gx channels [C0, C1) at GXOFF = Σ scatter of the col matrix at
 * COFF (row stride LDC) — the adjoint of im2col (overwrites those channels).
 */
export const D = {
  KIND: 0, M0: 1, M1: 2, N0: 3, N1: 4, K: 5,
  ATYPE: 6, AOFF: 7, LDA: 8, BTYPE: 9, BOFF: 10, LDB: 11,
  COFF: 12, LDC: 13, ACCF: 14, APW: 15, BPW: 16,
  H: 17, W: 18, KH: 19, KW: 20, OH: 21, OW: 22, SH: 23, SW: 24, PT: 25, PL: 26, DH: 27, DW: 28,
  C0: 29, C1: 30, GXOFF: 31, AKK: 32, ACKK: 33,
  SIZE: 40,
} as const;

export const KIND_GEMM = 0;
export const KIND_COL2IM = 1;

export const ENGINE_SOURCE = `
(function (mem, macro, MR, NR, KC, MC, NC) {
  'use strict';
  let F = new Float32Array(mem.buffer);
  const ihB = new Int32Array(8), iwB = new Int32Array(8);
  const D_KIND = ${D.KIND}, D_M0 = ${D.M0}, D_M1 = ${D.M1}, D_N0 = ${D.N0}, D_N1 = ${D.N1}, D_K = ${D.K};
  const D_ATYPE = ${D.ATYPE}, D_AOFF = ${D.AOFF}, D_LDA = ${D.LDA}, D_BTYPE = ${D.BTYPE}, D_BOFF = ${D.BOFF}, D_LDB = ${D.LDB};
  const D_COFF = ${D.COFF}, D_LDC = ${D.LDC}, D_ACCF = ${D.ACCF}, D_APW = ${D.APW}, D_BPW = ${D.BPW};
  const D_H = ${D.H}, D_W = ${D.W}, D_KH = ${D.KH}, D_KW = ${D.KW}, D_OH = ${D.OH}, D_OW = ${D.OW};
  const D_SH = ${D.SH}, D_SW = ${D.SW}, D_PT = ${D.PT}, D_PL = ${D.PL}, D_DH = ${D.DH}, D_DW = ${D.DW};
  const D_C0 = ${D.C0}, D_C1 = ${D.C1}, D_GXOFF = ${D.GXOFF}, D_AKK = ${D.AKK}, D_ACKK = ${D.ACKK};

  function refresh() {
    const b = mem.buffer;
    if (F.buffer !== b && F.length * 4 !== b.byteLength) F = new Float32Array(b);
  }

  // alpha-free packing of A[row0 .. row0+mc, pc .. pc+kc] into MR-row panels at ap
  function packA(d, ap, row0, rowEnd, pc, mc, kc) {
    const f = F, type = d[D_ATYPE], aOff = d[D_AOFF], lda = d[D_LDA];
    for (let ir = 0; ir < mc; ir += MR) {
      const base = ap + ir * kc;
      if (type === 1 && MR === 4 && row0 + ir + MR <= rowEnd) {
        // transposed source: the MR values of one k are contiguous
        let s = aOff + pc * lda + row0 + ir, dst = base;
        for (let k = 0; k < kc; k++) {
          f[dst] = f[s]; f[dst + 1] = f[s + 1]; f[dst + 2] = f[s + 2]; f[dst + 3] = f[s + 3];
          dst += MR; s += lda;
        }
        continue;
      }
      for (let i = 0; i < MR; i++) {
        const r = row0 + ir + i;
        let dst = base + i;
        if (r >= rowEnd) {
          for (let k = 0; k < kc; k++) { f[dst] = 0; dst += MR; }
        } else if (type === 0) {
          let s = aOff + r * lda + pc;
          for (let k = 0; k < kc; k++) { f[dst] = f[s++]; dst += MR; }
        } else if (type === 1) {
          let s = aOff + pc * lda + r;
          for (let k = 0; k < kc; k++) { f[dst] = f[s]; s += lda; dst += MR; }
        } else {
          const akk = d[D_AKK], ackk = d[D_ACKK];
          let oc = (pc / akk) | 0, t = pc - oc * akk;
          let s = aOff + oc * ackk + r * akk + akk - 1 - t;
          for (let k = 0; k < kc; k++) {
            f[dst] = f[s]; dst += MR;
            if (++t === akk) { t = 0; s += ackk + akk - 1; } else s--;
          }
        }
      }
    }
  }

  function packB(d, bp, col0, pc, kc, nc) {
    const f = F, type = d[D_BTYPE], bOff = d[D_BOFF], ldb = d[D_LDB];
    if (type === 0) {
      for (let jr = 0; jr < nc; jr += NR) {
        let dst = bp + jr * kc, s = bOff + pc * ldb + col0 + jr;
        if (nc - jr >= NR) {
          for (let k = 0; k < kc; k++) {
            f[dst] = f[s]; f[dst + 1] = f[s + 1]; f[dst + 2] = f[s + 2]; f[dst + 3] = f[s + 3];
            f[dst + 4] = f[s + 4]; f[dst + 5] = f[s + 5]; f[dst + 6] = f[s + 6]; f[dst + 7] = f[s + 7];
            dst += NR; s += ldb;
          }
        } else {
          const nr = nc - jr;
          for (let k = 0; k < kc; k++) {
            for (let j = 0; j < NR; j++) f[dst + j] = j < nr ? f[s + j] : 0;
            dst += NR; s += ldb;
          }
        }
      }
      return;
    }
    if (type === 1) {
      for (let jr = 0; jr < nc; jr += NR) {
        const base = bp + jr * kc, nr = Math.min(NR, nc - jr);
        for (let j = 0; j < NR; j++) {
          let dst = base + j;
          if (j < nr) {
            let s = bOff + (col0 + jr + j) * ldb + pc;
            for (let k = 0; k < kc; k++) { f[dst] = f[s++]; dst += NR; }
          } else {
            for (let k = 0; k < kc; k++) { f[dst] = 0; dst += NR; }
          }
        }
      }
      return;
    }
    const H = d[D_H], W = d[D_W], KH = d[D_KH], KW = d[D_KW], OH = d[D_OH], OW = d[D_OW];
    const sH = d[D_SH], sW = d[D_SW], pT = d[D_PT], pL = d[D_PL], dH = d[D_DH], dW = d[D_DW];
    const KK = KH * KW, HW = H * W;
    if (type === 2) {
      // B[k = (c, kh, kw), n = (oh, ow)]
      const c00 = (pc / KK) | 0, t00 = pc - c00 * KK, kh00 = (t00 / KW) | 0, kw00 = t00 - kh00 * KW;
      for (let jr = 0; jr < nc; jr += NR) {
        const p0 = col0 + jr, nr = Math.min(NR, nc - jr);
        const oh = (p0 / OW) | 0, ow = p0 - oh * OW;
        const fast = nr === NR && ow + NR <= OW;
        const ih0 = oh * sH - pT, iw0 = ow * sW - pL, iwSpan = (NR - 1) * sW;
        if (!fast) {
          for (let j = 0; j < NR; j++) {
            if (j < nr) {
              const p = p0 + j, q = (p / OW) | 0;
              ihB[j] = q * sH - pT; iwB[j] = (p - q * OW) * sW - pL;
            } else { ihB[j] = -1073741824; iwB[j] = 0; }
          }
        }
        let dst = bp + jr * kc;
        let c = c00, kh = kh00, kw = kw00;
        let xc = bOff + c * HW, tapH = kh * dH, tapW = kw * dW;
        for (let k = 0; k < kc; k++) {
          const ih = ih0 + tapH, iw = iw0 + tapW;
          if (fast && ih >= 0 && ih < H && iw >= 0 && iw + iwSpan < W) {
            const s = xc + ih * W + iw;
            if (sW === 1) {
              f[dst] = f[s]; f[dst + 1] = f[s + 1]; f[dst + 2] = f[s + 2]; f[dst + 3] = f[s + 3];
              f[dst + 4] = f[s + 4]; f[dst + 5] = f[s + 5]; f[dst + 6] = f[s + 6]; f[dst + 7] = f[s + 7];
            } else {
              for (let j = 0; j < NR; j++) f[dst + j] = f[s + j * sW];
            }
          } else if (fast) {
            const rowOk = ih >= 0 && ih < H, s = xc + ih * W;
            for (let j = 0; j < NR; j++) {
              const x = iw + j * sW;
              f[dst + j] = rowOk && x >= 0 && x < W ? f[s + x] : 0;
            }
          } else {
            for (let j = 0; j < NR; j++) {
              const y = ihB[j] + tapH, x = iwB[j] + tapW;
              f[dst + j] = y >= 0 && y < H && x >= 0 && x < W ? f[xc + y * W + x] : 0;
            }
          }
          dst += NR;
          if (++kw === KW) {
            kw = 0;
            if (++kh === KH) { kh = 0; c++; xc += HW; }
            tapH = kh * dH;
          }
          tapW = kw * dW;
        }
      }
      return;
    }
    // type 3: B[k = (oh, ow), n = (c, kh, kw)]
    const ohS = (pc / OW) | 0, owS = pc - ohS * OW;
    for (let jr = 0; jr < nc; jr += NR) {
      const base = bp + jr * kc, nr = Math.min(NR, nc - jr);
      for (let j = 0; j < NR; j++) {
        let dst = base + j;
        if (j >= nr) {
          for (let k = 0; k < kc; k++) { f[dst] = 0; dst += NR; }
          continue;
        }
        const r = col0 + jr + j, c = (r / KK) | 0, t = r - c * KK, kh = (t / KW) | 0, kw = t - kh * KW;
        const xc = bOff + c * HW, tapH = kh * dH - pT, tapW = kw * dW - pL;
        // valid ow range for this tap: 0 <= ow·sW + tapW < W
        const owLo = tapW >= 0 ? 0 : Math.min(OW, Math.ceil(-tapW / sW));
        const owHi = Math.max(owLo, Math.min(OW, W - 1 - tapW < 0 ? 0 : Math.floor((W - 1 - tapW) / sW) + 1));
        let k = 0, oh = ohS, ow = owS;
        while (k < kc) {
          const cnt = Math.min(OW - ow, kc - k), end = ow + cnt;
          const ih = oh * sH + tapH;
          if (ih < 0 || ih >= H) {
            for (let i = 0; i < cnt; i++) { f[dst] = 0; dst += NR; }
          } else {
            const a = Math.max(ow, Math.min(owLo, end)), b = Math.max(a, Math.min(owHi, end));
            for (let q = ow; q < a; q++) { f[dst] = 0; dst += NR; }
            let s = xc + ih * W + a * sW + tapW;
            if (sW === 1) for (let q = a; q < b; q++) { f[dst] = f[s++]; dst += NR; }
            else for (let q = a; q < b; q++) { f[dst] = f[s]; s += sW; dst += NR; }
            for (let q = b; q < end; q++) { f[dst] = 0; dst += NR; }
          }
          k += cnt; ow = 0; oh++;
        }
      }
    }
  }

  function gemm(d) {
    const m0 = d[D_M0], m1 = d[D_M1], n0 = d[D_N0], n1 = d[D_N1], K = d[D_K];
    const mt = m1 - m0, nt = n1 - n0;
    if (mt <= 0 || nt <= 0) return;
    const ldc = d[D_LDC], ap = d[D_APW], bp = d[D_BPW];
    const cBase = d[D_COFF] + m0 * ldc + n0;
    if (K === 0) {
      const mp = Math.ceil(mt / MR) * MR, np = Math.ceil(nt / NR) * NR;
      if (d[D_ACCF] === 0) for (let i = 0; i < mp; i++) F.fill(0, cBase + i * ldc, cBase + i * ldc + np);
      return;
    }
    for (let jc = 0; jc < nt; jc += NC) {
      const nc = Math.min(NC, nt - jc), nP = Math.ceil(nc / NR);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        packB(d, bp, n0 + jc, pc, kc, nc);
        const acc = pc > 0 || d[D_ACCF] !== 0 ? 1 : 0;
        for (let ic = 0; ic < mt; ic += MC) {
          const mc = Math.min(MC, mt - ic);
          packA(d, ap, m0 + ic, m1, pc, mc, kc);
          macro(kc, Math.ceil(mc / MR), nP, ap * 4, bp * 4, (cBase + ic * ldc + jc) * 4, ldc * 4, acc);
        }
      }
    }
  }

  // gx[c] = Σ scatter of col rows (c, kh, kw), for c in [C0, C1)
  function col2im(d) {
    const f = F;
    const H = d[D_H], W = d[D_W], KH = d[D_KH], KW = d[D_KW], OH = d[D_OH], OW = d[D_OW];
    const sH = d[D_SH], sW = d[D_SW], pT = d[D_PT], pL = d[D_PL], dH = d[D_DH], dW = d[D_DW];
    const ldc = d[D_LDC], col = d[D_COFF], gx = d[D_GXOFF], HW = H * W;
    for (let c = d[D_C0]; c < d[D_C1]; c++) {
      const xc = gx + c * HW;
      f.fill(0, xc, xc + HW);
      let row = c * KH * KW;
      for (let kh = 0; kh < KH; kh++) {
        const tapH = kh * dH;
        const v0 = pT - tapH, oh0 = v0 <= 0 ? 0 : Math.ceil(v0 / sH);
        const v1 = H - 1 + pT - tapH, oh1 = v1 < 0 ? 0 : Math.min(OH, Math.floor(v1 / sH) + 1);
        for (let kw = 0; kw < KW; kw++) {
          const tapW = kw * dW;
          const u0 = pL - tapW, ow0 = u0 <= 0 ? 0 : Math.ceil(u0 / sW);
          const u1 = W - 1 + pL - tapW, ow1 = u1 < 0 ? 0 : Math.min(OW, Math.floor(u1 / sW) + 1);
          const base = col + row * ldc;
          for (let oh = oh0; oh < oh1; oh++) {
            let s = xc + (oh * sH - pT + tapH) * W + ow0 * sW - pL + tapW;
            const src = base + oh * OW;
            if (sW === 1) {
              for (let ow = ow0; ow < ow1; ow++) { f[s] += f[src + ow]; s++; }
            } else {
              for (let ow = ow0; ow < ow1; ow++) { f[s] += f[src + ow]; s += sW; }
            }
          }
          row++;
        }
      }
    }
  }

  return function run(d) {
    refresh();
    const kind = d[D_KIND];
    if (kind === ${KIND_GEMM}) gemm(d);
    else if (kind === ${KIND_COL2IM}) col2im(d);
  };
})
`;
