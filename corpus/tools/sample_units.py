"""Draw the units to annotate from an ingested corpus table, recording how each was sampled.

Run once per annotation round; the seed fixes the draw. The output holds texts and is
written outside the repository (texts are never committed, only labels keyed by id):

    python corpus/tools/sample_units.py CORPUS.parquet OUTDIR --round 1

Strata (recorded in the ``sampling`` column so that estimates can be reweighted):
  random:sme        STIP initiatives targeting SMEs (TG31), drawn at random
  enriched:sme      SME initiatives carrying a network-related STIP tag
  enriched:other    non-SME initiatives carrying a network-related STIP tag
  random:other      any other initiative
  random:cn         Chinese measures drawn at random from the SME-relevant documents
  enriched:cn       Chinese measures containing a codebook cue word (from round 2 on: a cue of
                    the rare classes production, cluster, partnership, lead_firm, drawn from
                    all Chinese documents)
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from classifier.sampling import CN_POOL_TITLE  # noqa: E402  (the one definition of SME relevance)
from classifier.sampling import has_network_tag  # noqa: E402  (the one definition of the STIP cells)

CN_RARE_CUES = re.compile("产业链|供应链|配套|集群|龙头|大企业|大型企业|链主|融通|联盟|采购|账款|款项|对接|上下游|协会|外资|跨国")
CN_CUES = re.compile("产业链|供应链|配套|集群|产学研|协同创新|技术转移|成果转化|龙头|大企业|大型企业|链主|融通|联盟|"
                     "合作|园区|平台|采购|款项|账款|对接|协会|基地|孵化|共享|上下游")


def oecd_units(table: pd.DataFrame, seed: int, sizes: dict) -> pd.DataFrame:
    docs = (table[table.status == "ok"].groupby("doc_id")
            .agg(initiative_id=("initiative_id", "first"), wave=("wave", "first"), tags=("stip_tags", "first"),
                 sme=("sme_targeted", "first"), title=("title", "first"), country=("country", "first")).reset_index())
    docs = docs.sort_values("wave").groupby("initiative_id").tail(1)  # latest wave of each initiative
    networked = docs.tags.map(has_network_tag)
    draws = []
    for name, mask in (("enriched:sme", docs.sme & networked), ("random:sme", docs.sme & ~networked),
                       ("enriched:other", ~docs.sme & networked), ("random:other", ~docs.sme & ~networked)):
        pool = docs[mask]
        draws.append(pool.sample(min(sizes[name], len(pool)), random_state=seed).assign(sampling=name))
    return pd.concat(draws)


def cn_units(table: pd.DataFrame, seed: int, n_enriched: int, n_random: int, rare_only: bool = False) -> pd.DataFrame:
    ok = table[(table.status == "ok") & (table.text.str.len() >= 20)]
    titles = ok.groupby("doc_id").title.first().fillna("")
    relevant = titles[titles.map(lambda t: bool(CN_POOL_TITLE.search(t)))].index
    pool = ok[ok.doc_id.isin(relevant) | ok.source.str.startswith(("local/", "reports/"))] if not rare_only else ok
    cued = pool.text.str.contains(CN_RARE_CUES if rare_only else CN_CUES)
    enriched = pool[cued].sample(min(n_enriched, int(cued.sum())), random_state=seed).assign(sampling="enriched:cn")
    rest = pool.drop(enriched.index)
    randoms = rest.sample(min(n_random, len(rest)), random_state=seed).assign(sampling="random:cn")
    return pd.concat([enriched, randoms])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--oecd-batches", type=int, default=5)
    parser.add_argument("--cn-batches", type=int, default=3)
    parser.add_argument("--exclude", type=Path, nargs="*", default=[], help="earlier batch files whose units are not drawn again")
    parser.add_argument("--oecd-sizes", default="260,340,150,100", help="enriched:sme,random:sme,enriched:other,random:other")
    parser.add_argument("--cn-sizes", default="700,500", help="enriched:cn,random:cn")
    args = parser.parse_args()
    table = pd.read_parquet(args.corpus)
    seen = {json.loads(line)["unit_id"] for path in args.exclude for line in open(path)}
    seen_initiatives = {u.split(":")[1] for u in seen if u.startswith("stip:")}
    table = table[~table.measure_id.isin(seen) & ~table.initiative_id.isin(seen_initiatives)]
    oecd_sizes = dict(zip(["enriched:sme", "random:sme", "enriched:other", "random:other"], map(int, args.oecd_sizes.split(","))))
    n_enriched, n_random = map(int, args.cn_sizes.split(","))
    seed = 1000 + args.round
    args.outdir.mkdir(parents=True, exist_ok=True)
    oecd = oecd_units(table[table.corpus == "oecd"], seed, oecd_sizes)
    full_text = {d: "\n\n".join(g.sort_values("order").text) for d, g in table[table.doc_id.isin(oecd.doc_id)].groupby("doc_id")}
    oecd = oecd.sample(frac=1, random_state=seed)
    for i in range(args.oecd_batches):
        with open(args.outdir / f"oecd_r{args.round}_b{i + 1}.jsonl", "w") as out:
            for row in oecd.iloc[i :: args.oecd_batches].itertuples():
                out.write(json.dumps({"unit_id": row.doc_id, "title": row.title, "country": row.country,
                                      "sampling": row.sampling, "text": full_text[row.doc_id]}, ensure_ascii=False) + "\n")
    cn = cn_units(table[table.corpus == "cn"], seed, n_enriched, n_random, rare_only=args.round > 1).sample(frac=1, random_state=seed)
    for i in range(args.cn_batches):
        with open(args.outdir / f"cn_r{args.round}_b{i + 1}.jsonl", "w") as out:
            for row in cn.iloc[i :: args.cn_batches].itertuples():
                out.write(json.dumps({"unit_id": row.measure_id, "doc_id": row.doc_id, "start": row.start, "end": row.end,
                                      "title": row.title, "section": row.section, "sampling": row.sampling,
                                      "text": row.text}, ensure_ascii=False) + "\n")
    print(f"{len(oecd)} OECD documents, {len(cn)} Chinese measures from {cn.doc_id.nunique()} documents -> {args.outdir}")


if __name__ == "__main__":
    main()
