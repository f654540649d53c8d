;; The form decoder's hot loop in WebAssembly (see src/form-wasm.ts, which runs it, and
;; src/form.ts, whose JavaScript loop is the reference and the fallback). Compiled by
;; `npm run build:wasm` into src/form-wasm-bytes.ts; test/form.test.ts checks that the two agree.
;;
;; Memory, three pages, never grown: bytes 0-255 hold each byte's hex value (16 for a byte that
;; is not a hex digit); bytes 256-2303 the compaction table (below); the caller copies a chunk of
;; the body in after them (from 2304) and gives an output region after that. A body is decoded
;; chunk by chunk, so it can be of any size.
(module
  (memory (export "memory") 3)
  ;; Where the input stopped: the '&' or stop byte, or the first byte left for the next chunk.
  (global $at (export "at") (mut i32) (i32.const 0))
  ;; 1 when an escape or a '+' was decoded (else the output is a copy of the input).
  (global $changed (export "changed") (mut i32) (i32.const 0))
  ;; 1 when the part ended here, at '&' or the stop byte.
  (global $stopped (export "stopped") (mut i32) (i32.const 0))
  (data (i32.const 0)
    "\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\00\01\02\03\04\05\06\07\08\09\10\10\10\10\10\10"
    "\10\0a\0b\0c\0d\0e\0f\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\0a\0b\0c\0d\0e\0f\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10"
    "\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10"
    "\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10\10")

  ;; The compaction table, filled at instantiation: for each 8-bit mask m, at 256 + 8m, the
  ;; positions of m's set bits in ascending order. A swizzle by it packs the bytes a mask keeps.
  (func $table
    (local $m i32) (local $bit i32) (local $k i32)
    (loop $masks
      (local.set $bit (i32.const 0))
      (local.set $k (i32.add (i32.const 256) (i32.shl (local.get $m) (i32.const 3))))
      (loop $bits
        (if (i32.and (i32.shr_u (local.get $m) (local.get $bit)) (i32.const 1))
          (then
            (i32.store8 (local.get $k) (local.get $bit))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))))
        (local.set $bit (i32.add (local.get $bit) (i32.const 1)))
        (br_if $bits (i32.lt_u (local.get $bit) (i32.const 8))))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br_if $masks (i32.lt_u (local.get $m) (i32.const 256)))))
  (start $table)

  ;; Decode `+` and `%XX` from $i, writing at $o; returns the output's end. Stops at `&` or
  ;; $stop, or before decoding a byte at or past $limit. $end is where the loaded bytes end: an
  ;; escape must end before it. For the body's last chunk $limit is $end; for any other chunk,
  ;; $end - 2, so an escape that starts before $limit is whole in this chunk.
  ;; A malformed escape is copied as it is. Sixteen bytes at a time while none of them is special:
  ;; they are stored whole. Sixteen with escapes and `+` but no `&`, stop byte or malformed
  ;; escape are decoded whole too: each `%` takes the value of the two bytes after it, the
  ;; digits are dropped by a swizzle from the compaction table, eight bytes at a time, and an
  ;; escape whose digits lie past the sixteen moves the next start past them. Sixteen whose '%'
  ;; are all malformed (no two hex digits after them) are copied whole too. Otherwise the
  ;; loop moves to the first special byte (or 16 on) and decodes the rest of those sixteen one
  ;; byte at a time, so a body of malformed escapes costs one vector attempt per sixteen bytes.
  (func (export "part")
    (param $i i32) (param $limit i32) (param $end i32) (param $stop i32) (param $o i32)
    (result i32)
    (local $v v128) (local $mask i32) (local $c i32) (local $hi i32) (local $lo i32)
    (local $percent v128) (local $plus v128) (local $amp v128) (local $stops v128)
    (local $isPercent v128) (local $isPlus v128) (local $hi8 v128) (local $lo8 v128)
    (local $hexHi v128) (local $out v128) (local $p i32) (local $keep i32)
    (local $digit v128) (local $letter v128) (local $isDigit v128) (local $scalarUntil i32)
    (local.set $percent (i8x16.splat (i32.const 0x25)))
    (local.set $plus (i8x16.splat (i32.const 0x2b)))
    (local.set $amp (i8x16.splat (i32.const 0x26)))
    (local.set $stops (i8x16.splat (local.get $stop)))
    (global.set $changed (i32.const 0))
    (global.set $stopped (i32.const 0))
    (block $done
      (loop $next
        ;; After sixteen that could not be decoded whole, their bytes go one at a time: one
        ;; vector attempt per sixteen bytes, whatever they hold (`%%%%…` costs no more).
        (if (i32.and (i32.ge_u (local.get $i) (local.get $scalarUntil))
                     (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
          (then
            (local.set $v (v128.load align=1 (local.get $i)))
            ;; Stored whole: bytes past the first special one are overwritten by what follows.
            (v128.store align=1 (local.get $o) (local.get $v))
            (local.set $mask (i8x16.bitmask
              (v128.or
                (v128.or (i8x16.eq (local.get $v) (local.get $percent))
                         (i8x16.eq (local.get $v) (local.get $plus)))
                (v128.or (i8x16.eq (local.get $v) (local.get $amp))
                         (i8x16.eq (local.get $v) (local.get $stops))))))
            (if (i32.eqz (local.get $mask))
              (then
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $next)))
            ;; Escapes and `+` only, and the two bytes after the sixteen loaded: decode them
            ;; together. (Then all sixteen start before $limit, which is $end or $end - 2.)
            (if (i32.le_u (i32.add (local.get $i) (i32.const 18)) (local.get $end))
              (then
                (local.set $isPercent (i8x16.eq (local.get $v) (local.get $percent)))
                (local.set $isPlus (i8x16.eq (local.get $v) (local.get $plus)))
                ;; The hex value of the byte after each (in $hexHi) and of the one after that (in
                ;; $out), and which of them are hex digits ($hi8, $lo8). Lower-cased by setting
                ;; bit 5, '0'-'9' (which have it) land outside 'a'-'f'. Written out twice: a
                ;; function returning two vectors was not inlined and cost more than it saved.
                (local.set $out (v128.load offset=1 align=1 (local.get $i)))
                (local.set $digit (i8x16.sub (local.get $out) (i8x16.splat (i32.const 0x30))))
                (local.set $letter
                  (i8x16.sub (v128.or (local.get $out) (i8x16.splat (i32.const 0x20)))
                             (i8x16.splat (i32.const 0x61))))
                (local.set $isDigit (i8x16.lt_u (local.get $digit) (i8x16.splat (i32.const 10))))
                (local.set $hexHi (v128.bitselect (local.get $digit)
                  (i8x16.add (local.get $letter) (i8x16.splat (i32.const 10))) (local.get $isDigit)))
                (local.set $hi8 (v128.or (local.get $isDigit)
                  (i8x16.lt_u (local.get $letter) (i8x16.splat (i32.const 6)))))
                (local.set $out (v128.load offset=2 align=1 (local.get $i)))
                (local.set $digit (i8x16.sub (local.get $out) (i8x16.splat (i32.const 0x30))))
                (local.set $letter
                  (i8x16.sub (v128.or (local.get $out) (i8x16.splat (i32.const 0x20)))
                             (i8x16.splat (i32.const 0x61))))
                (local.set $isDigit (i8x16.lt_u (local.get $digit) (i8x16.splat (i32.const 10))))
                (local.set $out (v128.bitselect (local.get $digit)
                  (i8x16.add (local.get $letter) (i8x16.splat (i32.const 10))) (local.get $isDigit)))
                (local.set $lo8 (v128.or (local.get $isDigit)
                  (i8x16.lt_u (local.get $letter) (i8x16.splat (i32.const 6)))))
                (local.set $p (i8x16.bitmask (local.get $isPercent)))
                ;; No '&' or stop byte, and every '%' followed by two hex digits.
                (if (i32.eqz (i32.or
                      (i32.xor (local.get $mask)
                               (i8x16.bitmask (v128.or (local.get $isPercent) (local.get $isPlus))))
                      (i8x16.bitmask (v128.andnot (local.get $isPercent)
                                                  (v128.and (local.get $hi8) (local.get $lo8))))))
                  (then
                    (local.set $out
                      (v128.bitselect
                        (v128.or (i8x16.shl (local.get $hexHi) (i32.const 4)) (local.get $out))
                        (v128.bitselect (i8x16.splat (i32.const 0x20)) (local.get $v)
                                        (local.get $isPlus))
                        (local.get $isPercent)))
                    ;; Keep every byte but the two after each '%'.
                    (local.set $keep (i32.and (i32.xor
                      (i32.or (i32.shl (local.get $p) (i32.const 1))
                              (i32.shl (local.get $p) (i32.const 2)))
                      (i32.const 0xffff)) (i32.const 0xffff)))
                    (v128.store64_lane align=1 0 (local.get $o)
                      (i8x16.swizzle (local.get $out)
                        (v128.load64_zero align=1 (i32.add (i32.const 256)
                          (i32.shl (i32.and (local.get $keep) (i32.const 0xff)) (i32.const 3))))))
                    (local.set $o (i32.add (local.get $o)
                      (i32.popcnt (i32.and (local.get $keep) (i32.const 0xff)))))
                    (v128.store64_lane align=1 0 (local.get $o)
                      (i8x16.swizzle (local.get $out)
                        (i8x16.add (i8x16.splat (i32.const 8))
                          (v128.load64_zero align=1 (i32.add (i32.const 256)
                            (i32.shl (i32.shr_u (local.get $keep) (i32.const 8)) (i32.const 3)))))))
                    (local.set $o (i32.add (local.get $o)
                      (i32.popcnt (i32.shr_u (local.get $keep) (i32.const 8)))))
                    (global.set $changed (i32.const 1))
                    ;; A '%' at 15 has its digits at 16 and 17; at 14, one at 16.
                    (local.set $i (i32.add (i32.add (local.get $i) (i32.const 16))
                      (i32.add (i32.shl (i32.shr_u (local.get $p) (i32.const 15)) (i32.const 1))
                               (i32.and (i32.shr_u (local.get $p) (i32.const 14)) (i32.const 1)))))
                    (br $next)))
                ;; No '&' or stop byte and no '%' with two hex digits after it: the '%' are
                ;; copied as they are, each '+' becomes a space, all sixteen at once.
                (if (i32.eqz (i32.or
                      (i32.xor (local.get $mask)
                               (i8x16.bitmask (v128.or (local.get $isPercent) (local.get $isPlus))))
                      (i8x16.bitmask (v128.and (local.get $isPercent)
                                               (v128.and (local.get $hi8) (local.get $lo8))))))
                  (then
                    (v128.store align=1 (local.get $o)
                      (v128.bitselect (i8x16.splat (i32.const 0x20)) (local.get $v)
                                      (local.get $isPlus)))
                    (if (i8x16.bitmask (local.get $isPlus))
                      (then (global.set $changed (i32.const 1))))
                    (local.set $i (i32.add (local.get $i) (i32.const 16)))
                    (local.set $o (i32.add (local.get $o) (i32.const 16)))
                    (br $next)))))
            (local.set $scalarUntil (i32.add (local.get $i) (i32.const 16)))
            (local.set $c (i32.ctz (local.get $mask)))
            (local.set $i (i32.add (local.get $i) (local.get $c)))
            (local.set $o (i32.add (local.get $o) (local.get $c)))))
        ;; Plain bytes may run past $limit (they need no lookahead); a byte decoded here may not.
        (br_if $done (i32.ge_u (local.get $i) (local.get $limit)))
        ;; One byte: special when it came from the mask, any byte in the last 15.
        (local.set $c (i32.load8_u (local.get $i)))
        (if (i32.eq (local.get $c) (i32.const 0x25))
          (then
            (if (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $end))
              (then
                (local.set $hi (i32.load8_u (i32.load8_u offset=1 (local.get $i))))
                (local.set $lo (i32.load8_u (i32.load8_u offset=2 (local.get $i))))
                (if (i32.lt_u (i32.or (local.get $hi) (local.get $lo)) (i32.const 16))
                  (then
                    (i32.store8 (local.get $o)
                      (i32.or (i32.shl (local.get $hi) (i32.const 4)) (local.get $lo)))
                    (global.set $changed (i32.const 1))
                    (local.set $o (i32.add (local.get $o) (i32.const 1)))
                    (local.set $i (i32.add (local.get $i) (i32.const 3)))
                    (br $next)))))
            (i32.store8 (local.get $o) (local.get $c)))
          (else
            (if (i32.eq (local.get $c) (i32.const 0x2b))
              (then
                (i32.store8 (local.get $o) (i32.const 0x20))
                (global.set $changed (i32.const 1)))
              (else
                (if (i32.or (i32.eq (local.get $c) (i32.const 0x26))
                            (i32.eq (local.get $c) (local.get $stop)))
                  (then
                    (global.set $stopped (i32.const 1))
                    (br $done)))
                (i32.store8 (local.get $o) (local.get $c))))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (global.set $at (local.get $i))
    (local.get $o))
)
