# scores + model index + domains.tsv -> per-target / per-model CSV, plots, report.md and report.html.


rule report:
    input:
        **SCORE_FILES,
        index=expand(f"{RESULTS}/index/{{target}}.tsv", target=TARGETS),
        domains=[str(TARGET_SET.domains)] if TARGET_SET.domains else [],
    output:
        md=f"{REPORT_DIR}/report.md",
        html=f"{REPORT_DIR}/report.html",
        per_target=f"{REPORT_DIR}/per_target.csv",
        per_model=f"{REPORT_DIR}/per_model.csv",
        curves=f"{REPORT_DIR}/gdt_curves.png",
        by_unit=f"{REPORT_DIR}/gdt_by_unit.png",
    log:
        f"{RESULTS}/logs/report.log",
    params:
        targets=TARGETS,
        group=GROUP,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../../environment.yml"
    script:
        "../scripts/make_report.py"
