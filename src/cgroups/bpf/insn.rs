//! eBPF instructions as the kernel reads them (`struct bpf_insn`), with constructors for the
//! handful of opcodes a device filter needs. No clang on the build machines, so programs are
//! assembled here.

/// One 8-byte instruction: opcode, dst/src registers (4 bits each), offset, immediate.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

// Opcode parts (linux/bpf_common.h, linux/bpf.h).
const LDX: u8 = 0x01;
const ALU64: u8 = 0x07;
const JMP: u8 = 0x05;
const JMP32: u8 = 0x06;
const MEM_W: u8 = 0x60; // BPF_MEM | BPF_W
const K: u8 = 0x00;
const X: u8 = 0x08;
const OP_AND: u8 = 0x50;
const OP_RSH: u8 = 0x70;
const OP_MOV: u8 = 0xb0;
const OP_JEQ: u8 = 0x10;
const OP_JNE: u8 = 0x50;
const OP_EXIT: u8 = 0x90;

/// Registers used by the device filter.
pub const R0: u8 = 0;
pub const R1: u8 = 1;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | (dst & 0x0f),
        off,
        imm,
    }
}

/// `dst = *(u32 *)(src + off)` (zero-extended).
pub fn load_u32(dst: u8, src: u8, off: i16) -> Insn {
    insn(LDX | MEM_W, dst, src, off, 0)
}

/// `dst = imm` (64-bit).
pub fn mov_imm(dst: u8, imm: i32) -> Insn {
    insn(ALU64 | OP_MOV | K, dst, 0, 0, imm)
}

/// `dst = src` (64-bit).
pub fn mov_reg(dst: u8, src: u8) -> Insn {
    insn(ALU64 | OP_MOV | X, dst, src, 0, 0)
}

/// `dst &= imm` (64-bit).
pub fn and_imm(dst: u8, imm: i32) -> Insn {
    insn(ALU64 | OP_AND | K, dst, 0, 0, imm)
}

/// `dst >>= imm` (64-bit, logical).
pub fn rsh_imm(dst: u8, imm: i32) -> Insn {
    insn(ALU64 | OP_RSH | K, dst, 0, 0, imm)
}

/// `if (u32)dst != (u32)imm goto pc + 1 + off`: 32-bit compare, so every u32 device number is
/// compared exactly (a 64-bit compare would sign-extend immediates above i32::MAX).
pub fn jne32_imm(dst: u8, imm: u32, off: i16) -> Insn {
    insn(JMP32 | OP_JNE | K, dst, 0, off, imm as i32)
}

/// `if (u32)dst == (u32)imm goto pc + 1 + off`.
pub fn jeq32_imm(dst: u8, imm: u32, off: i16) -> Insn {
    insn(JMP32 | OP_JEQ | K, dst, 0, off, imm as i32)
}

/// `return r0`.
pub fn exit() -> Insn {
    insn(JMP | OP_EXIT, 0, 0, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte-for-byte against the encodings in the kernel's bpf_insn (and bpfdev.c's program).
    #[test]
    fn encodings_match_the_kernel_abi() {
        let cases = [
            (load_u32(2, 1, 4), (0x61, 0x12, 4, 0)),
            (mov_imm(R0, 1), (0xb7, 0x00, 0, 1)),
            (mov_reg(3, 2), (0xbf, 0x23, 0, 0)),
            (and_imm(2, 0xffff), (0x57, 0x02, 0, 0xffff)),
            (rsh_imm(3, 16), (0x77, 0x03, 0, 16)),
            (jne32_imm(4, 3, 2), (0x56, 0x04, 2, 3)),
            (jeq32_imm(4, 0, 5), (0x16, 0x04, 5, 0)),
            (exit(), (0x95, 0x00, 0, 0)),
        ];
        for (got, (code, regs, off, imm)) in cases {
            assert_eq!(
                got,
                Insn {
                    code,
                    regs,
                    off,
                    imm
                }
            );
        }
        assert_eq!(std::mem::size_of::<Insn>(), 8);
        assert_eq!(jne32_imm(4, u32::MAX, 0).imm, -1);
    }
}
