"""Small labeled texts written for the tests (not corpus text), in both languages."""

EXAMPLES = [
    # text, types, primary, orientation
    ("鼓励大企业向中小企业开放研发设计、检验检测等资源，带动产业链上下游中小企业协同发展。", ["production", "knowledge"], "production", "lead_firm"),
    ("支持龙头企业发挥链主作用，带动配套中小企业进入供应链。", ["production"], "production", "lead_firm"),
    ("大型企业向中小企业采购货物，付款期限最长不超过60日。", ["production"], "production", "lead_firm"),
    ("推动链主企业与上下游中小企业开展订单对接和协作配套。", ["production"], "production", "lead_firm"),
    ("政府部门和事业单位向中小企业采购时，须在交付后30日内付清款项。", ["production"], "production", "neutral"),
    ("支持中小企业特色产业集群建设公共技术服务平台，促进集群内企业共享设备和人才。", ["cluster", "knowledge"], "cluster", "network"),
    ("培育中小企业特色产业集群，支持集群内企业抱团发展。", ["cluster"], "cluster", "network"),
    ("推动产业园区内中小企业集聚发展，加强园区企业之间的交流合作。", ["cluster"], "cluster", "network"),
    ("支持高校、科研院所与中小企业共建联合实验室，促进科技成果转化。", ["knowledge"], "knowledge", "network"),
    ("向中小企业发放创新券，用于购买高校和科研院所的技术服务。", ["knowledge"], "knowledge", "network"),
    ("推动产学研协同创新，支持中小企业与科研机构开展技术转移。", ["knowledge"], "knowledge", "network"),
    ("支持中小企业之间组建产业联盟，开展联合研发和技术许可。", ["partnership"], "partnership", "network"),
    ("鼓励中小企业与外国企业合资合作，建设中外中小企业合作区。", ["partnership"], "partnership", "network"),
    ("符合条件的小微企业可按较低税率缴纳企业所得税。", [], "none", "neutral"),
    ("对小微企业贷款给予贴息和融资担保支持。", [], "none", "neutral"),
    ("简化中小企业登记审批程序，降低制度性交易成本。", [], "none", "neutral"),
    ("组织中小企业经营管理人员参加培训。", [], "none", "neutral"),
    ("对年度纳税贡献突出的企业给予一次性奖励。", [], "none", "neutral"),
    ("The programme matches domestic SME suppliers with multinational affiliates and co-funds supplier upgrading.", ["production"], "production", "lead_firm"),
    ("Large buyers must pay their SME suppliers within 30 days.", ["production"], "production", "lead_firm"),
    ("Anchor firms mentor SME suppliers to enter their global value chains.", ["production"], "production", "lead_firm"),
    ("Public procurement reserves a share of contracts for SMEs.", ["production"], "production", "neutral"),
    ("Export consortia of SMEs receive support to reach foreign buyers.", ["production"], "production", "network"),
    ("Vouchers let SMEs buy R&D services from universities and public research institutes.", ["knowledge"], "knowledge", "network"),
    ("Collaborative research grants fund projects between universities and SMEs.", ["knowledge"], "knowledge", "network"),
    ("Technology transfer offices help SMEs license research results from universities.", ["knowledge"], "knowledge", "network"),
    ("Grants for consortia of at least three SMEs that jointly develop and license a new technology.", ["partnership", "knowledge"], "partnership", "network"),
    ("A partner search service helps SMEs find alliance partners abroad.", ["partnership"], "partnership", "network"),
    ("Joint venture support for SMEs forming strategic alliances.", ["partnership"], "partnership", "network"),
    ("Funding for cluster management organisations to internationalise their member SMEs.", ["cluster", "partnership"], "cluster", "network"),
    ("The cluster programme supports agglomeration and cooperation of firms in the region.", ["cluster"], "cluster", "network"),
    ("Science parks are funded as clusters where firms and researchers interact.", ["cluster"], "cluster", "network"),
    ("Low-interest loans to SMEs affected by the energy price shock.", [], "none", "neutral"),
    ("A tax credit for small business investment in equipment.", [], "none", "neutral"),
    ("Training for the staff of small firms in accounting.", [], "none", "neutral"),
    ("An award recognises the best young entrepreneurs each year.", [], "none", "neutral"),
    ("Red tape reduction for start-ups registering a company.", [], "none", "neutral"),
    ("Loan guarantees for SMEs lacking collateral.", [], "none", "neutral"),
]


def as_frame():
    import pandas as pd

    frame = pd.DataFrame(EXAMPLES, columns=["text", "types", "primary", "orientation"])
    frame["unit_id"] = [f"ex{i}" for i in range(len(frame))]
    frame["group"] = frame["unit_id"]
    frame["corpus"] = ["cn" if any("\u4e00" <= c <= "\u9fff" for c in t) else "oecd" for t in frame.text]
    frame["lang"] = frame.corpus.map({"cn": "zh", "oecd": "en"})
    frame["sampling"] = "test"
    return frame
