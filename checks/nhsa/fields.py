"""The fields of the national 3101/3102 request, level by level, and the claim line made of an order.

Names and types agree across open-source HIS integrations (../shared/NHSA_INTERFACE.md). `LINE`
says which request field feeds which claim column (the README's table is written from it).
"""
from __future__ import annotations

import pyarrow as pa

T, N, D, L, L1, O, ANY = "text", "number", "datetime", "list", "list or one object", "object", "any"
_ENVELOPE = dict.fromkeys("infno msgid mdtrtarea_admvs insuplc_admdvs recer_sys_code dev_no dev_safe_info cainfo "
                          "signtype infver opter_type opter opter_name inf_time fixmedins_code fixmedins_name "
                          "sign_no".split(), T) | {"input": O}
_DATA = {"syscode": T, "rule_ids": L, "trig_scen": T, "patient_dtos": L}
_PATIENT = dict.fromkeys("patn_id patn_name gend poolarea curr_mdtrt_id".split(), T) | {
    "brdy": D, "fsi_his_data_dto": ANY, "fsi_encounter_dtos": L1}
_ENCOUNTER = dict.fromkeys(
    "mdtrt_id medins_id medins_name medins_admdvs medins_type medins_lv wardarea_codg wardno bedno "
    "dscg_main_dise_codg dscg_main_dise_name dr_codg adm_dept_codg adm_dept_name dscg_dept_codg dscg_dept_name "
    "med_mdtrt_type med_type matn_stas insutype reim_flag out_setl_flag".split(), T) | dict.fromkeys(
    "medfee_sumamt ownpay_amt selfpay_amt acct_payamt ma_amt hifp_payamt setl_totlnum".split(), N) | {
    "adm_date": D, "dscg_date": D, "fsi_diagnose_dtos": L, "fsi_order_dtos": L, "fsi_operation_dtos": L}
_DIAGNOSE = dict.fromkeys("dise_id inout_dise_type maindise_flag dias_srt_no dise_codg dise_name".split(), T) | {
    "dise_date": D}
_ORDER = dict.fromkeys(
    "rx_id rxno grpno long_drord_flag hilist_type chrg_type drord_bhvr hilist_code hilist_name hilist_dosform "
    "hilist_lv hilist_memo hosplist_code hosplist_name hosplist_dosform spec spec_unt drord_dept_codg "
    "drord_dept_name drord_dr_codg drord_dr_name drord_dr_profttl curr_drord_flag".split(), T) | dict.fromkeys(
    "hilist_pric lv1_hosp_item_pric lv2_hosp_item_pric lv3_hosp_item_pric cnt pric sumamt ownpay_amt "
    "selfpay_amt".split(), N) | {"drord_begn_date": D, "drord_stop_date": D}
_OPERATION = dict.fromkeys("setl_list_oprn_id oprn_code oprn_name main_oprn_flag anst_way oper_dr_name oper_dr_code "
                           "anst_dr_name anst_dr_code".split(), T) | {"oprn_date": D}
# names some vendors use for the lists (Hainan: encounterDtos, orderDtos …), after camel → snake
ALIASES = {"encounter_dtos": "fsi_encounter_dtos", "order_dtos": "fsi_order_dtos",
           "diagnose_dtos": "fsi_diagnose_dtos", "operation_dtos": "fsi_operation_dtos",
           "his_data_dto": "fsi_his_data_dto", "patient_dto": "patient_dtos"}
HILIST_LV = {"甲": "01", "乙": "02", "丙": "03", "1": "01", "2": "02", "3": "03"}

# claim column -> (type, where its value comes from); `derived` and `unknown` are documented in the README
LINE = {
    "mdtrt_id": "encounter.mdtrt_id", "feedetl_sn": "order.rx_id", "psn_no": "patient.patn_id",
    "insutype": "encounter.insutype", "med_type": "encounter.med_type",
    "mdtrtarea_admvs": "encounter.medins_admdvs, else envelope mdtrtarea_admvs",
    "insuplc_admdvs": "patient.poolarea, else envelope insuplc_admdvs",
    "fixmedins_code": "encounter.medins_id, else envelope fixmedins_code",
    "fixmedins_name": "encounter.medins_name, else envelope fixmedins_name",
    "fee_ocur_time": "order.drord_begn_date, else encounter.adm_date",
    "hilist_code": "order.hilist_code", "hilist_name": "order.hilist_name", "cnt": "order.cnt",
    "pric": "order.pric", "det_item_fee_sumamt": "order.sumamt", "fulamt_ownpay_amt": "order.ownpay_amt (自费)",
    "gend": "patient.gend", "brdy": "patient.brdy",
    "main_diag_code": "the diagnosis with maindise_flag 1 (a discharge one first), else encounter.dscg_main_dise_codg",
    "list_type": "order.hilist_type", "chrgitm_lv": "order.hilist_lv (甲/乙/丙 → 01/02/03)",
}
CONTEXT = ("patn_id", "rx_id", "curr_drord_flag")
_TYPES = {"cnt": pa.float64(), "pric": pa.float64(), "det_item_fee_sumamt": pa.float64(),
          "fulamt_ownpay_amt": pa.float64(), "fee_ocur_time": pa.timestamp("us"), "brdy": pa.date32()}
SCHEMA = pa.schema([(c, _TYPES.get(c, pa.string())) for c in LINE] + [(c, pa.string()) for c in CONTEXT])


# claim column -> (the dto it comes from, the national field named when it is missing)
_REQUIRED = {"mdtrt_id": ("encounter", "mdtrt_id"), "feedetl_sn": ("order", "rx_id"),
             "psn_no": ("patient", "patn_id"), "insutype": ("encounter", "insutype"),
             "med_type": ("encounter", "med_type"), "mdtrtarea_admvs": ("encounter", "medins_admdvs"),
             "fixmedins_code": ("encounter", "medins_id"), "fixmedins_name": ("encounter", "medins_name"),
             "fee_ocur_time": ("order", "drord_begn_date"), "hilist_code": ("order", "hilist_code"),
             "hilist_name": ("order", "hilist_name"), "cnt": ("order", "cnt"), "pric": ("order", "pric"),
             "det_item_fee_sumamt": ("order", "sumamt")}
