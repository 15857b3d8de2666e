#!/usr/bin/env bash
# Makes the L2C part of the demo book (leads, opportunities with stage
# histories over the last two quarters, orders, payment plans and receipts)
# with crmctl itself, each step at its own date through CRMCTL_NOW.
# Run once on a book that has the demo users, accounts and contacts:
#   bash scripts/l2c_demo_records.sh [BOOK]   (then `git add records`)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" CRMCTL_BOOK="${1:-$PWD}"

# on DAY as USER: crmctl ...
on() { local day=$1 who=$2; shift 2; CRMCTL_NOW="${day}T10:00:00+08:00" crmctl --no-commit --as "$who" "$@"; }
converted_opp() { python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["opportunity"])'; }

# ---------------------------------------------------------------- rates and quotas
cat > "$CRMCTL_BOOK/records/rates.yaml" <<'EOF'
# Exchange rates: units of the book currency (CNY) per one unit of each currency.
# Reports use the latest rate on or before their as-of day.
"2026-07-01": {USD: "7.15", EUR: "7.80"}
"2026-10-01": {USD: "7.12", EUR: "7.75"}
"2026-11-02": {USD: "7.10", EUR: "7.70"}
EOF
for u in li-na:800000 zhou-tao:600000 tom-baker:900000 chen-jing:2300000; do
  printf 'quotas:\n- {period: 2026-Q3, amount: "%s"}\n- {period: 2026-Q4, amount: "%s"}\n' "${u#*:}" "${u#*:}" \
    >> "$CRMCTL_BOOK/records/users/${u%%:*}.yaml"
done

# ---------------------------------------------------------------- leads
on 2026-07-08 chen-jing lead add --pool --name 刘洋 --company 常州恒力液压有限公司 --phone "+86 519 8666 1200" --source trade_show --city 常州
on 2026-08-19 chen-jing lead add --pool --name "Sophie Martin" --company "Lyon Usinage SARL" --email s.martin@lyon-usinage.example.fr --source web
on 2026-11-20 chen-jing lead add --pool --name 黄伟 --company 温州阀门厂 --phone 13957712345 --source cold_call --city 温州
on 2026-11-24 li-na lead add --name 陈晓东 --company 上海汽车工业集团 --title 采购经理 --phone "+86 139 1600 2200" --source referral
old=$(on 2026-09-10 zhou-tao lead add --name 孙建国 --company 嘉兴五金制品 --source trade_show --score 40)
on 2026-11-16 tom-baker lead add --name "Mike Ross" --company "Texas Drill Co" --email mike@texasdrill.example.com --source web --score 70 >/dev/null
dq=$(on 2026-09-02 zhou-tao lead add --name 周明 --company 无锡小五金 --source cold_call)
on 2026-09-09 zhou-tao lead disqualify "$dq" --reason no_budget
q=$(on 2026-11-10 li-na lead add --name 王芳 --company 上汽大众零部件 --email wang.fang@svw-parts.example.cn --source referral)
on 2026-11-18 li-na lead qualify "$q"

# ---------------------------------------------------------------- deals from converted leads
l1=$(on 2026-07-06 zhou-tao lead add --name 钱伟 --company 绍兴纺机有限公司 --phone "+86 575 8511 3000" --source trade_show)
on 2026-07-10 zhou-tao lead qualify "$l1"
o_won1=$(on 2026-07-14 zhou-tao lead convert "$l1" --account-id shaoxing-textile --amount 380000 --close-date 2026-09-30 --format json | converted_opp)
l2=$(on 2026-07-20 tom-baker lead add --name "Emily Carter" --company "Lone Star Fabrication" --email emily@lonestarfab.example.com --source web)
o_won2=$(on 2026-07-28 tom-baker lead convert "$l2" --account lone-star-fab --amount 52000 --close-date 2026-10-15 --format json | converted_opp)
on 2026-07-28 tom-baker opp edit "$o_won2" --name "Lone Star — VMC-850 line" --set currency=USD
l3=$(on 2026-09-14 li-na lead add --name 马丽 --company 上汽大众零部件 --phone "+86 21 6955 1288" --source referral)
o_neg=$(on 2026-09-16 li-na lead convert "$l3" --account saic-volkswagen-parts --amount 1250000 --close-date 2026-12-20 --format json | converted_opp)

# ---------------------------------------------------------------- deals added directly
new_opp() { local day=$1 who=$2; shift 2; on "$day" "$who" opp add "$@"; }
o_won3=$(new_opp 2026-07-03 li-na --name "上汽动力总成 加工中心扩产" --account saic-powertrain --amount 960000 --close-date 2026-09-15 --set contacts=2ndt17162f36,2ndt17ane4zh --source referral)
o_won4=$(new_opp 2026-08-05 tom-baker --name "Bavaria Gears — spare parts 2026" --account bavaria-gears --amount 48000 --close-date 2026-10-31 --set currency=EUR --set contacts=2ndt18th4y23 --source partner)
o_lost=$(new_opp 2026-07-21 zhou-tao --name "杭州液压 空压机更新" --account hangzhou-hydraulics --amount 210000 --close-date 2026-10-10 --set contacts=2ndt18h3c0fd --source cold_call)
o_prop=$(new_opp 2026-09-22 zhou-tao --name "苏州精密 五轴加工中心" --account suzhou-precision --amount 1480000 --close-date 2026-12-31 --set contacts=2ndt187vrgcj --source referral)
o_qual=$(new_opp 2026-10-12 tom-baker --name "Saigon Auto — service contract" --account saigon-auto --amount 36000 --set currency=USD --source web)
o_pros=$(new_opp 2026-11-09 li-na --name "上汽集团 智能工厂试点" --account saic-group --amount 2600000 --set contacts=2ndt16r3m30m --source referral)
o_prop2=$(new_opp 2026-10-08 chen-jing --name "宁波模具 旧机改造" --account ningbo-moulds --amount 420000 --close-date 2027-01-31 --source partner)

adv() { on "$1" "$2" opp advance "$3" ${4:+--to "$4"}; }
# won in Q3
adv 2026-07-20 zhou-tao "$o_won1"; adv 2026-08-03 zhou-tao "$o_won1"; adv 2026-08-28 zhou-tao "$o_won1"; on 2026-09-18 zhou-tao opp win "$o_won1"
adv 2026-07-10 li-na "$o_won3"; adv 2026-07-24 li-na "$o_won3"; adv 2026-08-12 li-na "$o_won3"; on 2026-09-05 li-na opp win "$o_won3"
# won in Q4 (foreign currency)
adv 2026-08-10 tom-baker "$o_won2"; adv 2026-08-31 tom-baker "$o_won2"
adv 2026-09-20 tom-baker "$o_won2"; on 2026-10-09 tom-baker opp win "$o_won2"
adv 2026-08-20 tom-baker "$o_won4"; adv 2026-09-10 tom-baker "$o_won4"; adv 2026-10-05 tom-baker "$o_won4"; on 2026-10-22 tom-baker opp win "$o_won4"
# lost, after going back once
adv 2026-08-01 zhou-tao "$o_lost"; adv 2026-08-25 zhou-tao "$o_lost"; adv 2026-09-15 zhou-tao "$o_lost" qualification
on 2026-10-06 zhou-tao opp lose "$o_lost" --reason price
# still open, in every open stage
adv 2026-09-25 li-na "$o_neg"; adv 2026-10-14 li-na "$o_neg"; adv 2026-11-12 li-na "$o_neg"
adv 2026-10-08 zhou-tao "$o_prop"; adv 2026-11-02 zhou-tao "$o_prop"
adv 2026-10-30 chen-jing "$o_prop2"; adv 2026-11-19 chen-jing "$o_prop2"
adv 2026-11-03 tom-baker "$o_qual"
: "$o_pros"  # stays in prospecting

# ---------------------------------------------------------------- orders and collection (回款)
# paid in full: two installments, both received
s1=$(on 2026-09-18 wang-lei order add --opp "$o_won1" --date 2026-09-18)
on 2026-09-18 zhou-tao payment plan "$s1" --at 2026-09-30=30% --at 2026-10-31=70%
on 2026-09-29 zhou-tao payment record "$s1" --amount 114000 --date 2026-09-29 --ref "ICBC 0929-114"
on 2026-10-30 zhou-tao payment record "$s1" --amount 266000 --date 2026-10-30 --ref "ICBC 1030-266"
# part paid and overdue: four monthly installments, one and a half received
s2=$(on 2026-09-05 wang-lei order add --opp "$o_won3" --date 2026-09-05)
on 2026-09-05 li-na payment plan "$s2" --installments 4 --every 1m --first 2026-09-20
on 2026-09-19 li-na payment record "$s2" --amount 240000 --date 2026-09-19 --ref "BOC 0919"
on 2026-10-25 li-na payment record "$s2" --amount 100000 --date 2026-10-25 --ref "BOC 1025"
# part paid, nothing overdue yet (USD)
s3=$(on 2026-10-09 wang-lei order add --opp "$o_won2" --date 2026-10-09)
on 2026-10-09 tom-baker payment plan "$s3" --at 2026-10-20=40% --at 2026-12-20=60%
on 2026-10-19 tom-baker payment record "$s3" --amount 20800 --date 2026-10-19 --ref "WIRE-LSF-1"
# overdue with nothing received (EUR)
s4=$(on 2026-10-22 wang-lei order add --opp "$o_won4" --date 2026-10-22)
on 2026-10-22 tom-baker payment plan "$s4" --installments 2 --every 30d --first 2026-10-31

# 孙建国's lead was last touched in September: `crmctl lead recycle` sends it back to the pool
echo "made the L2C demo records; old lead for recycling: $old"
