;; The structural bytes of CSV text, found sixteen at a time (WebAssembly SIMD).
;; `scripts/build-wasm.mjs` compiles this file into structural-wasm.ts; a test checks that the
;; two agree.
(module
  (memory (export "memory") 1)
  ;; Writes, as i32 offsets from `src`, where the bytes `,` `\n` `"` and `\r` are in
  ;; [src, src + len) to `out`, in order, and for each of them that is not a comma its index
  ;; in `out` to `special`; returns how many `out` holds, and stores how many `special` holds
  ;; at `special` - 4. The 15 bytes after src + len are read (and ignored): the caller leaves
  ;; room for them.
  (func (export "scan") (param $src i32) (param $len i32) (param $out i32) (param $special i32) (result i32)
    (local $at i32) (local $end i32) (local $mask i32) (local $count i32) (local $block v128)
    (local $others i32) (local $specials i32) (local $low i32)
    (local.set $at (local.get $src))
    (local.set $end (i32.add (local.get $src) (local.get $len)))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $block (v128.load align=1 (local.get $at)))
        ;; Line breaks, quotes and CRs; then with the commas.
        (local.set $others
          (i8x16.bitmask
            (v128.or
              (i8x16.eq (local.get $block) (i8x16.splat (i32.const 10)))
              (v128.or
                (i8x16.eq (local.get $block) (i8x16.splat (i32.const 34)))
                (i8x16.eq (local.get $block) (i8x16.splat (i32.const 13)))))))
        (local.set $mask
          (i32.or (local.get $others)
            (i8x16.bitmask (i8x16.eq (local.get $block) (i8x16.splat (i32.const 44))))))
        ;; The last block holds bytes past the end: they do not count.
        (if (i32.lt_u (i32.sub (local.get $end) (local.get $at)) (i32.const 16))
          (then
            (local.set $mask
              (i32.and (local.get $mask)
                (i32.sub
                  (i32.shl (i32.const 1) (i32.sub (local.get $end) (local.get $at)))
                  (i32.const 1))))))
        (block $written
          (loop $bits
            (br_if $written (i32.eqz (local.get $mask)))
            (i32.store
              (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2)))
              (i32.sub (i32.add (local.get $at) (i32.ctz (local.get $mask))) (local.get $src)))
            ;; The lowest bit left: not a comma when it is one of the others.
            (local.set $low (i32.and (local.get $mask) (i32.sub (i32.const 0) (local.get $mask))))
            (if (i32.and (local.get $others) (local.get $low))
              (then
                (i32.store
                  (i32.add (local.get $special) (i32.shl (local.get $specials) (i32.const 2)))
                  (local.get $count))
                (local.set $specials (i32.add (local.get $specials) (i32.const 1)))))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (local.set $mask (i32.xor (local.get $mask) (local.get $low)))
            (br $bits)))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $blocks)))
    (i32.store (i32.sub (local.get $special) (i32.const 4)) (local.get $specials))
    (local.get $count)))
