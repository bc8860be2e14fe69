# All per-record summary.csv files -> one summary.csv (in record-name order).


rule merge_summary:
    input:
        expand(f"{RESULTS}/records/{{name}}/summary.csv", name=sorted(RECORDS)),
    output:
        f"{RESULTS}/summary.csv",
    log:
        f"{RESULTS}/logs/merge_summary.log",
    params:
        results=RESULTS,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../../environment.yml"
    script:
        "../scripts/merge_summaries.py"
