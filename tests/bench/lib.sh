# SPDX-License-Identifier: GPL-2.0
#
# What run-bench.sh and run-profile.sh share: the guest and how it boots.

# bench_setup <bench binary> <outdir>: an initramfs with the bench as
# /init, and the NVMe controller's disk.
bench_setup() {
	local bin=$1 out=$2

	mkdir -p "$out"
	rm -rf "$out/root"
	mkdir -p "$out/root/proc" "$out/root/sys" "$out/root/dev"
	cp "$bin" "$out/root/init"
	(cd "$out/root" && find . | cpio -o -H newc --quiet) > "$out/initramfs.cpio"
	[ -f "$out/nvme.img" ] || truncate -s 16M "$out/nvme.img"
}

# bench_qemu <objdir> <outdir> <cpus> <MiB> <extra cmdline> [QEMU args]:
# QEMU virt with GICv3 ITS and SMMUv3, edu and NVMe, guest time counting
# instructions, for at most $TIMEOUT seconds (900).
bench_qemu() {
	local kobj=$1 out=$2 cpus=$3 mem=$4 extra=$5

	shift 5
	timeout "${TIMEOUT:-900}" qemu-system-aarch64 \
		-machine virt,gic-version=3,iommu=smmuv3 -cpu max,pauth-impdef=on \
		-smp "$cpus" -m "$mem" -icount shift=0,sleep=off \
		-display none -monitor none -no-reboot -nic none \
		-kernel "$kobj/arch/arm64/boot/Image" -initrd "$out/initramfs.cpio" \
		-append "console=ttyAMA0 panic=-1 nvme.write_queues=4 $extra" \
		-device edu \
		-drive file="$out/nvme.img",if=none,id=nvme,format=raw \
		-device nvme,drive=nvme,serial=bench "$@"
}
