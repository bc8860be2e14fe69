# Every model of every target against its references: `foldkit score-set`.


rule score_set:
    input:
        models=expand(f"{RESULTS}/models/{{target}}", target=TARGETS),
        natives=str(TARGET_SET.natives_dir),
        domains=[str(TARGET_SET.domains)] if TARGET_SET.domains else [],
    output:
        **SCORE_FILES,
    log:
        f"{RESULTS}/logs/score_set.log",
    params:
        foldkit=FOLDKIT,
        models_dir=f"{RESULTS}/models",
        domains=f"--domains {shlex.quote(str(TARGET_SET.domains))}" if TARGET_SET.domains else "",
        options=("--align " if SCORE.get("align") else "") + str(SCORE.get("extra") or ""),
    threads: int(SCORE.get("threads", 4))
    resources:
        mem_mb=int(SCORE.get("mem_mb", 8000)),
        runtime=int(SCORE.get("runtime", 120)),
    conda:
        "../../../environment.yml"
    shell:
        "{params.foldkit} score-set --models {params.models_dir} --natives {input.natives} {params.domains}"
        " -o {output.scores} --jobs {threads} {params.options} > {log} 2>&1"
