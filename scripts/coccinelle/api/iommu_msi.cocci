// SPDX-License-Identifier: GPL-2.0-only
/// Irqchip code whose MSI doorbell goes through an IOMMU must use the MSI
/// cookie framework: iommu_msi_prepare() when an MSI is allocated,
/// iommu_msi_compose() when its message is written, iommu_msi_release()
/// when it is freed. Converts the calls of the dma-iommu interface that the
/// framework replaced, and reports drivers that prepare a doorbell but then
/// write the message address without composing it, or never release it.
//
// Confidence: High for the conversion, Moderate for the reports.
// Options: --no-includes --include-headers

virtual patch
virtual context
virtual org
virtual report

// The dma-iommu interface of Linux 6.12 that the framework replaced.
@old_api depends on patch && !context && !org && !report@
expression D, A, M;
@@
(
- iommu_dma_prepare_msi(D, A)
+ iommu_msi_prepare(D, A)
|
- iommu_dma_compose_msi_msg(D, M)
+ iommu_msi_compose(D, M)
)

@depends on context@
expression D, A, M;
@@
(
* iommu_dma_prepare_msi(D, A)
|
* iommu_dma_compose_msi_msg(D, M)
)

@old_api_r depends on org || report@
expression D, A, M;
position p;
@@
(
 iommu_dma_prepare_msi@p(D, A)
|
 iommu_dma_compose_msi_msg@p(D, M)
)

@script:python depends on org@
p << old_api_r.p;
@@
coccilib.org.print_todo(p[0], "dma-iommu MSI call: use iommu_msi_prepare()/iommu_msi_compose()")

@script:python depends on report@
p << old_api_r.p;
@@
coccilib.report.print_report(p[0], "dma-iommu MSI call: use iommu_msi_prepare()/iommu_msi_compose()")

// Drivers that map a doorbell through the framework...
@prepares@
@@
iommu_msi_prepare(...)

// ...must compose every message whose address they write.
@initialize:python@
@@
composers = set()

@composes depends on prepares@
identifier fn;
@@
fn(...)
{
<+...
iommu_msi_compose(...)
...+>
}

@script:python@
fn << composes.fn;
@@
composers.add(fn)

// Any function handed the message: irq_compose_msi_msg() callbacks and
// the helpers of legacy (arch) PCI MSI set-up code alike.
@uncomposed depends on prepares && (context || org || report)@
identifier fn, msg;
position p;
@@
fn(..., struct msi_msg *msg, ...)
{
<+...
(
 msg->address_lo@p = ...;
|
 msg->address_hi@p = ...;
|
 msg[...].address_lo@p = ...;
|
 msg[...].address_hi@p = ...;
)
...+>
}

@script:python depends on org@
fn << uncomposed.fn;
p << uncomposed.p;
@@
if fn not in composers and fn != "iommu_msi_compose":
    coccilib.org.print_todo(p[0], "MSI doorbell address written without iommu_msi_compose()")

@script:python depends on report || context@
fn << uncomposed.fn;
p << uncomposed.p;
@@
if fn not in composers and fn != "iommu_msi_compose":
    coccilib.report.print_report(p[0], "MSI doorbell address written without iommu_msi_compose()")

// ...and give the doorbell back when the MSI is freed.
@releases@
@@
iommu_msi_release(...)

@unreleased depends on prepares && !releases && (context || org || report)@
position p;
@@
 iommu_msi_prepare@p(...)

@script:python depends on context@
p << unreleased.p;
@@
coccilib.report.print_report(p[0], "iommu_msi_prepare() without iommu_msi_release() in this file")

@script:python depends on org@
p << unreleased.p;
@@
coccilib.org.print_todo(p[0], "iommu_msi_prepare() without iommu_msi_release() in this file")

@script:python depends on report@
p << unreleased.p;
@@
coccilib.report.print_report(p[0], "iommu_msi_prepare() without iommu_msi_release() in this file")
