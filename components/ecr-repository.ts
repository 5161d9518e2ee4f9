// A private ECR repository the way this project keeps images: immutable tags (a tag always means
// the same image), scanned on push, encrypted, and a lifecycle policy that keeps the newest N.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ImageRepositoryArgs {
    /** Repository name (account-unique: scope it by stack). */
    repositoryName: string;
    /** Images kept, newest first; ECR expires the rest. */
    imagesKept: number;
    /** true: the repository cannot be deleted while it holds images; false: `pulumi destroy` deletes them too. */
    protect: boolean;
}

/** The repository's lifecycle policy: expire all but the newest `imagesKept` images, tagged or not. */
export function keepNewestPolicy(imagesKept: number): string {
    return JSON.stringify({
        rules: [{
            rulePriority: 1,
            description: `Keep the newest ${imagesKept} images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: imagesKept },
            action: { type: "expire" },
        }],
    });
}

/** Creates the repository (named `name`) and its lifecycle policy (`<name>-lifecycle`, a child of it). */
export function imageRepository(name: string, args: ImageRepositoryArgs, opts: pulumi.CustomResourceOptions): aws.ecr.Repository {
    const repository = new aws.ecr.Repository(name, {
        name: args.repositoryName,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "AES256" }],
        forceDelete: !args.protect,
        tags: { Name: name },
    }, opts);
    new aws.ecr.LifecyclePolicy(`${name}-lifecycle`, {
        repository: repository.name,
        policy: keepNewestPolicy(args.imagesKept),
    }, { parent: repository });
    return repository;
}
