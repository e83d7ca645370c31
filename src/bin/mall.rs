//! The points-mall bundle. Built by Trunk from `mall.html` into `dist/mall/`.

fn main() {
    member_center::mall_app::mount();
}
